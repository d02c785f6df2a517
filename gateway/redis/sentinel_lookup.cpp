#include "redis/sentinel_lookup.h"

#include <charconv>

#include "log/log.h"
#include "redis/hiredis_loop.h"

namespace chat::gateway {
namespace {

// A sentinel answers from memory: a second is plenty.
constexpr std::chrono::milliseconds kPerSentinel{2000};

}  // namespace

SentinelLookup::SentinelLookup(uv_loop_t* loop, const common::RedisEndpoint& endpoint)
    : loop_(loop), endpoint_(endpoint), deadline_(loop) {}

SentinelLookup::~SentinelLookup() {
  cancelled_ = true;
  deadline_.stop();
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(ctx);  // the pending reply callback runs now, and sees cancelled_
  }
}

void SentinelLookup::start(Done done) {
  done_ = std::move(done);
  ask(0);
}

void SentinelLookup::ask(std::size_t index) {
  index_ = index;
  if (index >= endpoint_.sentinels.size()) {
    Log::warn("sentinel_lookup_failed", {{"master", endpoint_.masterName}});
    if (done_) done_(std::nullopt);
    return;
  }
  const auto& [host, port] = endpoint_.sentinels[index];
  redisAsyncContext* ctx = redisAsyncConnect(host.c_str(), port);
  if (ctx == nullptr || ctx->err != 0 || !attachToLoop(ctx, loop_)) {
    if (ctx != nullptr) redisAsyncFree(ctx);
    ask(index + 1);
    return;
  }
  ctx_ = ctx;
  if (!endpoint_.sentinelPassword.empty())
    redisAsyncCommand(ctx, nullptr, nullptr, "AUTH %b", endpoint_.sentinelPassword.data(),
                      endpoint_.sentinelPassword.size());
  redisAsyncCommand(ctx, onReply, this, "SENTINEL get-master-addr-by-name %b",
                    endpoint_.masterName.data(), endpoint_.masterName.size());
  deadline_.once(kPerSentinel, [this] {
    if (ctx_ == nullptr) return;
    redisAsyncContext* stuck = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(stuck);  // runs onReply with no reply: the next sentinel
  });
}

void SentinelLookup::onReply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<SentinelLookup*>(privdata);
  if (self->cancelled_) return;
  // This sentinel is done with, whatever it said; hiredis frees it after the
  // callback (or already is, when it failed).
  if (self->ctx_ == ctx) {
    self->ctx_ = nullptr;
    if (reply != nullptr) redisAsyncDisconnect(ctx);
  }
  self->deadline_.stop();
  self->answered(static_cast<redisReply*>(reply));
}

void SentinelLookup::answered(redisReply* reply) {
  std::uint16_t port = 0;
  if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[0]->type == REDIS_REPLY_STRING &&
      reply->element[1]->type == REDIS_REPLY_STRING) {
    const std::string_view digits(reply->element[1]->str, reply->element[1]->len);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec == std::errc() && end == digits.data() + digits.size() && port != 0) {
      if (done_) done_(Address{std::string(reply->element[0]->str, reply->element[0]->len), port});
      return;
    }
  }
  ask(index_ + 1);
}

}  // namespace chat::gateway
