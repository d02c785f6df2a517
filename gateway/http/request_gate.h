#pragma once
// The step between accept() and lws: looks at each new connection's request
// head (inspectHead) before lws parses it. Most requests pass untouched: their
// bytes are only peeked at (MSG_PEEK) and lws reads them itself. A request lws
// cannot answer is handled here: a URL with %00 gets its 400, and a request
// with a chunked body is read whole (up to `maxBody`) and answered here
// through `onBuffered` (lws 4.1 neither decodes such bodies nor takes a body
// that was read before adoption). Answers from here end with a lingering close (shutdown,
// then read until the client closes, within a bound), so the client reads the
// answer instead of a reset. A head that arrives in pieces is looked at again
// a few times (within ~0.25 s), then handed to lws as it is; a request the gate
// took over and that is not complete within `headTimeout` is dropped, like
// lws' own header timeout. Loop thread only.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "http/request_head.h"

namespace chat::gateway {

class RequestGate {
 public:
  // Hands the socket to lws, with the bytes already read from it (may be empty).
  using AdoptFn = std::function<void(int fd, const std::string& readBytes)>;
  // A request was refused here with `status` (for the counters).
  using RefusedFn = std::function<void(unsigned status)>;
  // Answers a request whose body the gate read; `respond` may be called later
  // (once only), or never if the gate was closed meanwhile.
  using Respond =
      std::function<void(unsigned status, std::string_view contentType, std::string_view body)>;
  using BufferedFn = std::function<void(const BufferedRequest& request, Respond respond)>;

  struct Options {
    std::size_t maxBody = 8192;
    std::chrono::milliseconds headTimeout{10000};
    std::chrono::milliseconds lingerTimeout{2000};
  };

  RequestGate(uv_loop_t* loop, Options options, AdoptFn adopt, RefusedFn refused,
              BufferedFn onBuffered);
  ~RequestGate();
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // A freshly accepted, non-blocking socket; the gate owns it from now on.
  void onAccepted(int fd);
  // Closes every socket still waiting here.
  void closeAll();
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct Waiting;
  enum class Phase { kPeeking, kReading, kAnswering, kLingering };

  void step(Waiting& w);
  void peek(Waiting& w);
  void read(Waiting& w);
  void decide(Waiting& w);
  void refuse(Waiting& w, unsigned status, std::string_view reason);
  // Sends `response`, then closes once the client has (lingering close).
  void answer(Waiting& w, std::string_view response);
  void adopt(Waiting& w, std::string bytes);
  void finish(int fd);
  void watch(Waiting& w);
  void watchDeadline(Waiting& w);
  static void onPoll(uv_poll_t* handle, int status, int events);
  static void onTimer(uv_timer_t* handle);
  static void onRepeek(uv_timer_t* handle);

  uv_loop_t* loop_;
  Options options_;
  AdoptFn adopt_;
  RefusedFn refused_;
  BufferedFn onBuffered_;
  std::uint64_t nextId_ = 1;  // tells a reused fd from the one a late answer was for
  std::unordered_map<int, std::unique_ptr<Waiting>> waiting_;
};

}  // namespace chat::gateway
