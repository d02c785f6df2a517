#include "redis/redis_connection.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <random>
#include <string_view>
#include <tuple>

#include "log/log.h"
#include "redis/hiredis_loop.h"

namespace chat::gateway {
namespace {

// hiredis 0.14 has no connect timeout, and its libuv adapter ignores poll
// errors, so a connect that never completes is cut by our own timer.
constexpr std::chrono::milliseconds kConnectTimeout{5000};

}  // namespace

std::chrono::milliseconds redisReconnectDelay(unsigned attempt) {
  constexpr std::chrono::milliseconds kBackoffBase{100};
  constexpr std::chrono::milliseconds kBackoffCap{5000};
  static std::mt19937 rng{std::random_device{}()};
  const auto ceiling =
      std::min(kBackoffCap.count(), kBackoffBase.count() << std::min(attempt, 10U));
  // "Equal jitter": half fixed, half random, so retries never bunch up nor spin.
  std::uniform_int_distribution<long> jitter(0, ceiling / 2);
  return std::chrono::milliseconds(ceiling / 2 + jitter(rng));
}

RedisConnection::RedisConnection(uv_loop_t* loop, common::RedisEndpoint endpoint,
                                 std::string clientName, Listener listener, Liveness liveness)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      clientName_(std::move(clientName)),
      listener_(std::move(listener)),
      liveness_(liveness),
      retryTimer_(loop),
      connectTimeout_(loop),
      livenessTimer_(loop) {}

RedisConnection::~RedisConnection() {
  stop();
}

void RedisConnection::start() {
  if (state_ == State::kIdle) connect();
}

void RedisConnection::stop() {
  state_ = State::kStopped;
  lookup_.reset();
  retryTimer_.stop();
  connectTimeout_.stop();
  livenessTimer_.stop();
  abandonContext();
}

void RedisConnection::drop(std::string_view reason) {
  if (state_ != State::kUp) return;
  Log::warn("redis_unresponsive", {{"conn", clientName_}, {"reason", reason}});
  abandonContext();
  markDown(reason);
}

void RedisConnection::abandonContext() {
  if (ctx_ == nullptr) return;
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  ctx->data = nullptr;  // callbacks below must not reach us
  sentAt_.clear();
  // Runs every pending reply callback with nullptr, synchronously.
  redisAsyncFree(ctx);
}

void RedisConnection::connect() {
  state_ = State::kConnecting;
  if (endpoint_.sentinel && !primary_) {
    // Each connect asks the sentinels first: after a failover they name the
    // new primary (and ROLE in the handshake catches a stale answer).
    lookup_ = std::make_unique<SentinelLookup>(loop_, endpoint_);
    lookup_->start([this](std::optional<SentinelLookup::Address> primary) {
      if (state_ != State::kConnecting) return;
      if (!primary) {
        markDown("no sentinel named a primary for " + endpoint_.masterName);
        return;
      }
      primary_ = std::move(primary);
      connect();
    });
    return;
  }
  std::string host = endpoint_.host;
  std::uint16_t port = endpoint_.port;
  if (primary_) {
    std::tie(host, port) = *primary_;
    primary_.reset();  // the next connect asks again
  }
  redisAsyncContext* ctx = !viaSocket_.empty()    ? redisAsyncConnectUnix(viaSocket_.c_str())
                           : endpoint_.unixSocket ? redisAsyncConnectUnix(endpoint_.path.c_str())
                                                  : redisAsyncConnect(host.c_str(), port);
  if (ctx == nullptr || ctx->err != 0) {
    const std::string reason = ctx != nullptr ? ctx->errstr : "out of memory";
    if (ctx != nullptr) redisAsyncFree(ctx);
    markDown(reason);
    return;
  }
  if (!attachToLoop(ctx, loop_)) {
    redisAsyncFree(ctx);
    markDown("cannot attach to the event loop");
    return;
  }
  ctx->data = this;
  ctx_ = ctx;
  sentAt_.clear();
  // The kernel probes an idle link, so a peer that vanished is found even
  // without traffic (unix sockets need none).
  if (!endpoint_.unixSocket && viaSocket_.empty()) redisEnableKeepAlive(&ctx->c);
  redisAsyncSetConnectCallback(ctx, onConnect);
  redisAsyncSetDisconnectCallback(ctx, onDisconnect);
  connectTimeout_.once(kConnectTimeout, [this] {
    if (state_ == State::kConnecting || state_ == State::kHandshake) {
      abandonContext();
      markDown("connect timed out");
    }
  });
}

void RedisConnection::onConnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisConnection*>(ctx->data);
  if (self == nullptr) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback returns.
    self->ctx_ = nullptr;
    self->markDown(ctx->errstr);
    return;
  }
  self->sendHandshake();
}

void RedisConnection::sendHandshake() {
  state_ = State::kHandshake;
  std::vector<std::vector<std::string_view>> steps;
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty())
      steps.push_back({"AUTH", endpoint_.password});
    else
      steps.push_back({"AUTH", endpoint_.username, endpoint_.password});
  }
  const std::string db = std::to_string(endpoint_.db);
  if (endpoint_.db != 0) steps.push_back({"SELECT", db});
  steps.push_back({"CLIENT", "SETNAME", clientName_});
  // Through Sentinel: the address may be stale (a demoted primary that came
  // back as a replica); only a primary will do.
  if (endpoint_.sentinel) {
    steps.push_back({"ROLE"});
    // Which server this primary is: a sequence last written by another one
    // may miss ids clients saw (replication is asynchronous), see kStore.
    steps.push_back({"INFO", "server"});
  }

  auto remaining = std::make_shared<std::size_t>(steps.size());
  auto failed = std::make_shared<bool>(false);
  for (const auto& argv : steps) {
    const std::string what(argv.front());
    // Raw send: command() refuses while the handshake is under way.
    auto* fn = new ReplyFn([this, remaining, failed, what](redisReply* reply) {
      if (*failed) return;
      const bool notPrimary =
          what == "ROLE" && reply != nullptr &&
          (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
           reply->element[0]->type != REDIS_REPLY_STRING ||
           std::string_view(reply->element[0]->str, reply->element[0]->len) != "master");
      if (reply == nullptr || reply->type == REDIS_REPLY_ERROR || notPrimary) {
        *failed = true;
        const std::string detail = notPrimary         ? std::string("not a primary")
                                   : reply != nullptr ? std::string(reply->str, reply->len)
                                                      : std::string("connection lost");
        Log::error("redis_handshake_failed",
                   {{"conn", clientName_}, {"step", what}, {"detail", detail}});
        if (reply != nullptr) {
          abandonContext();
          markDown("handshake failed");
        }
        return;
      }
      if (what == "INFO" && reply->type == REDIS_REPLY_STRING) {
        const std::string_view info(reply->str, reply->len);
        const auto at = info.find("run_id:");
        if (at != std::string_view::npos)
          primaryId_ = std::string(info.substr(at + 7, info.find_first_of("\r\n", at) - at - 7));
      }
      if (--*remaining == 0) {
        state_ = State::kUp;
        attempt_ = 0;
        connectTimeout_.stop();
        Log::info("redis_up", {{"conn", clientName_}, {"url", endpoint_.redacted()}});
        lastReplyAt_ = uv_now(loop_);
        livenessTimer_.every(std::max(std::chrono::milliseconds(50), liveness_.replyTimeout / 4),
                             [this] { checkLiveness(); });
        if (listener_.onUp) listener_.onUp();
      }
    });
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    for (auto a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAsyncCommandArgv(ctx_, onReply, fn, static_cast<int>(args.size()), args.data(),
                              lens.data()) != REDIS_OK) {
      delete fn;
    } else {
      sentAt_.push_back(uv_now(loop_));
    }
  }
}

void RedisConnection::onDisconnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisConnection*>(ctx->data);
  if (self == nullptr) return;
  self->ctx_ = nullptr;  // hiredis frees it after this callback
  self->sentAt_.clear();
  self->markDown(status == REDIS_OK ? "disconnected" : ctx->errstr);
}

void RedisConnection::markDown(std::string_view reason) {
  if (state_ == State::kStopped) return;
  const bool wasUp = state_ == State::kUp;
  state_ = State::kIdle;
  connectTimeout_.stop();
  livenessTimer_.stop();
  if (wasUp || attempt_ == 0) {
    // Log once per state change, not once per retry.
    Log::warn("redis_down", {{"conn", clientName_}, {"reason", reason}});
  }
  scheduleReconnect();
  if (listener_.onDown) listener_.onDown();
}

void RedisConnection::scheduleReconnect() {
  const auto delay = redisReconnectDelay(attempt_++);
  retryTimer_.once(delay, [this] {
    if (state_ != State::kIdle) return;
    ++reconnects_;
    connect();
  });
}

bool RedisConnection::command(const std::vector<std::string_view>& argv, ReplyFn fn) {
  if (state_ != State::kUp || ctx_ == nullptr) return false;
  return send(argv, std::move(fn));
}

bool RedisConnection::send(const std::vector<std::string_view>& argv, ReplyFn fn) {
  auto* held = new ReplyFn(std::move(fn));
  if (!commandRaw(argv, onReply, held)) {
    delete held;
    return false;
  }
  sentAt_.push_back(uv_now(loop_));
  return true;
}

void RedisConnection::checkLiveness() {
  if (state_ != State::kUp || ctx_ == nullptr) return;
  const std::uint64_t now = uv_now(loop_);
  const auto timeout = static_cast<std::uint64_t>(liveness_.replyTimeout.count());
  if (!sentAt_.empty() && now - sentAt_.front() > timeout) {
    // Redis took the bytes (or the kernel did) and never answered: hung,
    // stopped, or the path to it is gone. Waiting longer only grows buffers.
    Log::warn("redis_unresponsive", {{"conn", clientName_},
                                     {"waiting_ms", std::to_string(now - sentAt_.front())},
                                     {"in_flight", std::to_string(sentAt_.size())}});
    abandonContext();
    markDown("no reply within REDIS_TIMEOUT");
    return;
  }
  if (liveness_.pingWhenIdle && sentAt_.empty() && now - lastReplyAt_ > timeout / 2)
    send({"PING"}, [](redisReply*) {});
}

bool RedisConnection::commandRaw(const std::vector<std::string_view>& argv, redisCallbackFn* fn,
                                 void* privdata) {
  if (ctx_ == nullptr) return false;
  constexpr std::size_t kInline = 8;
  const char* args[kInline];
  std::size_t lens[kInline];
  std::vector<const char*> bigArgs;
  std::vector<std::size_t> bigLens;
  const char** a = args;
  std::size_t* l = lens;
  if (argv.size() > kInline) {
    bigArgs.resize(argv.size());
    bigLens.resize(argv.size());
    a = bigArgs.data();
    l = bigLens.data();
  }
  for (std::size_t i = 0; i < argv.size(); ++i) {
    a[i] = argv[i].data();
    l[i] = argv[i].size();
  }
  return redisAsyncCommandArgv(ctx_, fn, privdata, static_cast<int>(argv.size()), a, l) == REDIS_OK;
}

void RedisConnection::onReply(redisAsyncContext* ctx, void* reply, void* privdata) {
  std::unique_ptr<ReplyFn> fn(static_cast<ReplyFn*>(privdata));
  auto* self = ctx != nullptr ? static_cast<RedisConnection*>(ctx->data) : nullptr;
  const auto* r = static_cast<redisReply*>(reply);
  if (self != nullptr && r != nullptr) {
    if (!self->sentAt_.empty()) self->sentAt_.pop_front();
    self->lastReplyAt_ = uv_now(self->loop_);
  }
  try {
    (*fn)(static_cast<redisReply*>(reply));
  } catch (const std::exception& e) {
    // No exception may unwind through hiredis' C frames.
    Log::error("redis_callback_failed", {{"what", e.what()}});
  }
  // A primary demoted under us answers writes with READONLY: find the new one.
  if (self != nullptr && r != nullptr && r->type == REDIS_REPLY_ERROR &&
      std::string_view(r->str, r->len).substr(0, 8) == "READONLY" && ctx->data == self)
    self->drop("the primary became a replica");
}

}  // namespace chat::gateway

namespace chat::gateway {

void RedisConnection::readPending(int maxReads) {
  for (int i = 0; i < maxReads && ctx_ != nullptr && state_ == State::kUp; ++i) {
    int available = 0;
    if (::ioctl(ctx_->c.fd, FIONREAD, &available) != 0 || available <= 0) return;
    redisAsyncHandleRead(ctx_);
  }
}

}  // namespace chat::gateway
