#include "http/request_gate.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "loop/uv_handles.h"

namespace chat::gateway {
namespace {

// Looks at a head that is arriving in pieces before handing it to lws as is.
constexpr unsigned kMaxRepeeks = 8;
// Bytes a refused client may still send before the gate stops waiting for it.
constexpr std::size_t kLingerBytes = 1 << 20;

}  // namespace

struct RequestGate::Waiting {
  RequestGate* gate = nullptr;
  int fd = -1;
  std::uint64_t id = 0;
  Phase phase = Phase::kPeeking;
  std::string input;  // consumed bytes (kReading)
  HeadVerdict verdict;
  std::unique_ptr<ChunkedBody> body;
  std::size_t lingered = 0;
  uv_poll_t* poll = nullptr;
  uv_timer_t* timer = nullptr;   // the deadline
  uv_timer_t* repeek = nullptr;  // the next look at a head not complete yet
  unsigned repeeks = 0;

  ~Waiting() {
    if (poll != nullptr) closeAndFree(poll);
    if (timer != nullptr) closeAndFree(timer);
    if (repeek != nullptr) closeAndFree(repeek);
  }
};

RequestGate::RequestGate(uv_loop_t* loop, Options options, AdoptFn adopt, RefusedFn refused,
                         BufferedFn onBuffered)
    : loop_(loop),
      options_(options),
      adopt_(std::move(adopt)),
      refused_(std::move(refused)),
      onBuffered_(std::move(onBuffered)) {}

RequestGate::~RequestGate() {
  closeAll();
}

void RequestGate::closeAll() {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [fd, w] : waiting) {
    w.reset();  // stops polling the fd before it is closed
    ::close(fd);
  }
}

void RequestGate::onAccepted(int fd) {
  auto owned = std::make_unique<Waiting>();
  Waiting& w = *owned;
  w.gate = this;
  w.fd = fd;
  w.id = nextId_++;
  waiting_[fd] = std::move(owned);
  step(w);
}

void RequestGate::step(Waiting& w) {
  switch (w.phase) {
    case Phase::kPeeking:
      peek(w);
      return;
    case Phase::kReading:
      read(w);
      return;
    case Phase::kAnswering:
      return;  // not reading until the answer is out
    case Phase::kLingering: {
      char sink[16384];
      for (;;) {
        const ssize_t n = ::recv(w.fd, sink, sizeof sink, 0);
        if (n > 0 && (w.lingered += static_cast<std::size_t>(n)) < kLingerBytes) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        break;  // the client closed, failed, or sent too much
      }
      finish(w.fd);
      return;
    }
  }
}

void RequestGate::peek(Waiting& w) {
  // The usual case: the whole head has arrived; look without taking it.
  char head[kMaxInspectedHead];
  const ssize_t n = ::recv(w.fd, head, sizeof head, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    watch(w);
    return;
  }
  if (n <= 0) {
    finish(w.fd);
    return;
  }
  w.verdict = inspectHead(std::string_view(head, static_cast<std::size_t>(n)));
  switch (w.verdict.kind) {
    case HeadVerdict::Kind::kPass:
      // lws reads the request itself: a body sent before adoption would be
      // lost to it (lws 4.1 takes a request's body from the start of what
      // was handed over), so the gate never takes bytes of a request it passes.
      adopt(w, std::string());
      return;
    case HeadVerdict::Kind::kNeedMore:
      if (w.repeeks >= kMaxRepeeks) {
        // A head still not whole after ~0.25 s (a slow or hostile sender):
        // lws waits for it on epoll at no cost, where looking again would
        // cost a syscall per look. Only its %00 or chunked body goes unseen.
        adopt(w, std::string());
        return;
      }
      // Part of a head: look again soon (1, 2, 4 ... 128 ms), without taking
      // it. Polling would wake at once, since the bytes stay unread.
      if (w.poll != nullptr) uv_poll_stop(w.poll);
      watchDeadline(w);
      if (w.repeek == nullptr) {
        w.repeek = new uv_timer_t;
        uv_timer_init(loop_, w.repeek);
        w.repeek->data = &w;
      }
      uv_timer_start(w.repeek, onRepeek, std::uint64_t{1} << w.repeeks, 0);
      ++w.repeeks;
      return;
    case HeadVerdict::Kind::kRefuse:
    case HeadVerdict::Kind::kDechunk:
      break;
  }
  // A refusal or a chunked body: the gate reads the request itself.
  w.phase = Phase::kReading;
  read(w);
}

void RequestGate::onRepeek(uv_timer_t* handle) {
  auto* w = static_cast<Waiting*>(handle->data);
  if (w != nullptr) w->gate->peek(*w);
}

void RequestGate::read(Waiting& w) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(w.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      w.input.append(buffer, static_cast<std::size_t>(n));
      if (w.input.size() > kMaxInspectedHead + options_.maxBody * 2 + 1024) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    finish(w.fd);  // closed before its request was complete
    return;
  }
  decide(w);
}

void RequestGate::decide(Waiting& w) {
  if (!w.body) {
    w.verdict = inspectHead(w.input);
    switch (w.verdict.kind) {
      case HeadVerdict::Kind::kNeedMore:
        watch(w);
        return;
      case HeadVerdict::Kind::kPass:
        adopt(w, w.input);
        return;
      case HeadVerdict::Kind::kRefuse:
        refuse(w, w.verdict.status, w.verdict.reason);
        return;
      case HeadVerdict::Kind::kDechunk:
        break;
    }
    w.body = std::make_unique<ChunkedBody>(options_.maxBody);
  }
  const std::size_t headBytes = w.verdict.headBytes;
  std::string rest = w.input.substr(headBytes);
  switch (w.body->feed(rest)) {
    case ChunkedBody::State::kMore:
      w.input.resize(headBytes);
      w.input += rest;  // an incomplete size line waits for its end
      watch(w);
      return;
    case ChunkedBody::State::kTooLarge:
      refuse(w, 413, "body too large");
      return;
    case ChunkedBody::State::kMalformed:
      refuse(w, 400, "malformed chunked body");
      return;
    case ChunkedBody::State::kDone:
      break;
  }
  // The connection ends with this answer: a pipelined request after it is not read.
  w.phase = Phase::kAnswering;
  if (w.poll != nullptr) uv_poll_stop(w.poll);
  const BufferedRequest request =
      bufferedRequest(std::string_view(w.input).substr(0, headBytes), w.body->body());
  onBuffered_(request, [this, fd = w.fd, id = w.id](unsigned status, std::string_view type,
                                                    std::string_view body) {
    const auto it = waiting_.find(fd);
    if (it == waiting_.end() || it->second->id != id) return;  // timed out meanwhile
    answer(*it->second, httpResponse(status, type, body));
  });
}

void RequestGate::refuse(Waiting& w, unsigned status, std::string_view reason) {
  if (refused_) refused_(status);
  answer(w, plainResponse(status, reason));
}

void RequestGate::answer(Waiting& w, std::string_view response) {
  // A few KiB at most into an idle socket's buffer: one send takes them.
  (void)::send(w.fd, response.data(), response.size(), MSG_NOSIGNAL);
  ::shutdown(w.fd, SHUT_WR);
  w.phase = Phase::kLingering;
  if (w.timer != nullptr) uv_timer_stop(w.timer);
  watch(w);
  uv_timer_start(w.timer, onTimer, static_cast<std::uint64_t>(options_.lingerTimeout.count()), 0);
  step(w);
}

void RequestGate::adopt(Waiting& w, std::string bytes) {
  // Taken by value: `bytes` may be w's own input, which the erase frees.
  const int fd = w.fd;
  waiting_.erase(fd);  // stops polling: lws watches the fd from now on
  adopt_(fd, bytes);
}

void RequestGate::finish(int fd) {
  waiting_.erase(fd);
  ::close(fd);
}

void RequestGate::watch(Waiting& w) {
  if (w.poll == nullptr) {
    w.poll = new uv_poll_t;
    uv_poll_init(loop_, w.poll, w.fd);
    w.poll->data = &w;
  }
  uv_poll_start(w.poll, UV_READABLE, onPoll);
  watchDeadline(w);
}

void RequestGate::watchDeadline(Waiting& w) {
  if (w.timer == nullptr) {
    w.timer = new uv_timer_t;
    uv_timer_init(loop_, w.timer);
    w.timer->data = &w;
    uv_timer_start(w.timer, onTimer, static_cast<std::uint64_t>(options_.headTimeout.count()), 0);
  }
}

void RequestGate::onPoll(uv_poll_t* handle, int, int) {
  auto* w = static_cast<Waiting*>(handle->data);
  if (w != nullptr) w->gate->step(*w);
}

void RequestGate::onTimer(uv_timer_t* handle) {
  auto* w = static_cast<Waiting*>(handle->data);
  if (w == nullptr) return;
  if (w->phase == Phase::kPeeking || w->phase == Phase::kReading) w->gate->refused_(408);
  w->gate->finish(w->fd);
}

}  // namespace chat::gateway
