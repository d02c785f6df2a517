#include "bus/redis_bus.h"

#include "log/log.h"

namespace chat::gateway {

RedisBus::RedisBus(uv_loop_t* loop, const common::RedisEndpoint& endpoint, std::string clientName,
                   const RedisKeys& keys, std::chrono::milliseconds replyTimeout)
    : keys_(keys),
      loop_(loop),
      heartbeatChannel_(keys.controlChannel() + ":" + clientName),
      connection_(
          loop, endpoint, std::move(clientName),
          {.onUp =
               [this] {
                 const std::string control = keys_.controlChannel();
                 connection_.commandRaw({"SUBSCRIBE", control, heartbeatChannel_}, onPubSub, this);
               },
           .onDown =
               [this] {
                 controlConfirmed_ = false;
                 listener_->onBusDown();
                 if (onReadinessChange_) onReadinessChange_();
               }},
          {.replyTimeout = replyTimeout, .pingWhenIdle = false}) {}

bool RedisBus::subscribe(std::string_view room) {
  if (!ready()) return false;
  return connection_.commandRaw({"SUBSCRIBE", keys_.channel(room)}, onPubSub, this);
}

bool RedisBus::unsubscribe(std::string_view room) {
  if (!ready()) return false;
  return connection_.commandRaw({"UNSUBSCRIBE", keys_.channel(room)}, onPubSub, this);
}

void RedisBus::onPubSub(redisAsyncContext*, void* reply, void* privdata) {
  // A null reply means the link died; onDown reports that once.
  if (reply == nullptr || privdata == nullptr) return;
  try {
    static_cast<RedisBus*>(privdata)->handlePubSub(static_cast<const redisReply*>(reply));
  } catch (const std::exception& e) {
    Log::error("bus_callback_failed", {{"what", e.what()}});
  }
}

void RedisBus::handlePubSub(const redisReply* reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING)
    return;
  const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  const std::string_view channel(reply->element[1]->str, reply->element[1]->len);
  const auto room = keys_.roomOfChannel(channel);

  if (kind == "message") {
    if (channel == heartbeatChannel_) {
      lastHeartbeatAt_ = uv_now(loop_);
      return;
    }
    if (channel == keys_.controlChannel()) {
      const redisReply* payload = reply->element[2];
      if (controlHandler_ && payload->type == REDIS_REPLY_STRING)
        controlHandler_(std::string_view(payload->str, payload->len));
      return;
    }
    const redisReply* payload = reply->element[2];
    if (room && payload->type == REDIS_REPLY_STRING)
      listener_->onRoomFrame(*room, std::string_view(payload->str, payload->len));
  } else if (kind == "subscribe") {
    if (room) {
      listener_->onRoomSubscribed(*room);
    } else if (channel == keys_.controlChannel() && !controlConfirmed_) {
      controlConfirmed_ = true;
      Log::info("bus_ready", {{"conn", connection_.name()}});
      listener_->onBusUp();
      if (onReadinessChange_) onReadinessChange_();
    }
  } else if (kind == "unsubscribe") {
    if (room) listener_->onRoomUnsubscribed(*room);
  }
}

}  // namespace chat::gateway
