#pragma once
// A sharded pub/sub link (SSUBSCRIBE) to one Redis Cluster node, on a libuv
// TCP stream of its own, read with hiredis' reply parser (redisReader).
// hiredis 0.14's async layer knows only SUBSCRIBE: it would take the first
// `ssubscribe` reply as a command's and drop every `smessage` after it.
//
// Connects, AUTHs, names itself, then sends what it is asked. It checks
// itself: a PING when idle (RESP2 answers it in subscribed mode as
// ["pong",""], which this parser reads), and any request unanswered within
// the reply timeout takes the link down; it then reconnects with backoff.
// Every subscription goes with the link: the listener places them again.
// Loop thread only.

#include <hiredis/read.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loop/uv_handles.h"
#include "redis/cluster_map.h"

namespace chat::gateway {

class ShardSubscriber {
 public:
  struct Listener {
    std::function<void()> onUp;
    std::function<void()> onDown;  // every subscription is gone
    std::function<void(std::string_view channel)> onSubscribed;
    // Confirms an SUNSUBSCRIBE, or Redis dropped the channel (its slot moved).
    std::function<void(std::string_view channel)> onUnsubscribed;
    // SSUBSCRIBE answered with an error (MOVED: the slot lives elsewhere).
    std::function<void(std::string_view channel, std::string_view error)> onRefused;
    std::function<void(std::string_view channel, std::string_view payload)> onMessage;
  };
  struct Credentials {
    std::string username;  // empty: AUTH with the password alone
    std::string password;  // empty: no AUTH
  };

  // `sharded`: SSUBSCRIBE (smessage, sunsubscribe); else classic SUBSCRIBE.
  ShardSubscriber(uv_loop_t* loop, ClusterNode node, Credentials credentials,
                  std::string clientName, std::chrono::milliseconds replyTimeout, Listener listener,
                  bool sharded = true);
  ~ShardSubscriber();
  ShardSubscriber(const ShardSubscriber&) = delete;
  ShardSubscriber& operator=(const ShardSubscriber&) = delete;

  void start();
  // Connects through this Unix socket instead (a TLS tunnel's).
  void connectVia(std::string unixSocketPath) { viaSocket_ = std::move(unixSocketPath); }
  void stop();
  bool isUp() const { return state_ == State::kUp; }
  // False (nothing sent) when the link is not up.
  bool subscribe(std::string_view channel);
  bool unsubscribe(std::string_view channel);
  const ClusterNode& node() const { return node_; }
  unsigned reconnects() const { return reconnects_; }

 private:
  enum class State { kIdle, kResolving, kConnecting, kHandshake, kUp, kStopped };
  struct Pending {
    enum class Kind { kHandshake, kSubscribe, kUnsubscribe, kPing };
    Kind kind;
    std::string channel;
    std::uint64_t sentAt;
  };
  struct Resolve;  // an address lookup that may outlive a stopped link

  void connect();
  void connectTo(const sockaddr* address);
  void connectToSocketFile();
  void watchConnect();
  void send(std::vector<std::string_view> argv, Pending::Kind kind, std::string_view channel);
  void onData(const char* data, std::size_t size);
  void dispatch(const struct redisReply* reply);
  void fail(std::string_view reason);
  void closeSocket();
  void checkLiveness();
  static void onConnect(uv_connect_t* request, int status);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  uv_loop_t* loop_;
  ClusterNode node_;
  Credentials credentials_;
  std::string clientName_;
  std::chrono::milliseconds replyTimeout_;
  Listener listener_;
  bool sharded_;
  State state_ = State::kIdle;
  std::string viaSocket_;
  // A uv_tcp_t, or a uv_pipe_t when connecting via a Unix socket.
  uv_stream_t* socket_ = nullptr;
  redisReader* reader_ = nullptr;
  std::shared_ptr<ShardSubscriber*> resolving_;  // cleared when a lookup must be ignored
  std::deque<Pending> pending_;                  // requests in the order Redis answers them
  std::uint64_t lastInputAt_ = 0;
  unsigned attempt_ = 0;
  unsigned reconnects_ = 0;
  std::vector<char> readBuffer_;
  Timer retryTimer_;
  Timer livenessTimer_;
};

}  // namespace chat::gateway
