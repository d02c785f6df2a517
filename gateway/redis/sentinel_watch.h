#pragma once
// Listens to Redis Sentinel for `+switch-master` (redis+sentinel://), so a
// failover is followed at once, also one that leaves the old primary alive
// (SENTINEL FAILOVER, a demotion): the links are dropped and reconnect
// through the sentinels, instead of reading from a demoted primary until a
// write meets READONLY. Subscribed on one sentinel at a time, the next one
// in the list after a failure. Loop thread only.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/redis_url.h"
#include "loop/uv_handles.h"
#include "redis/shard_subscriber.h"

namespace chat::gateway {

class SentinelWatch {
 public:
  // `onSwitch` gets the new primary's "host port" for our master name.
  SentinelWatch(uv_loop_t* loop, const common::RedisEndpoint& endpoint, std::string clientName,
                std::chrono::milliseconds replyTimeout,
                std::function<void(const std::string& newPrimary)> onSwitch);

  void start() { watch(0); }
  void stop() {
    stopped_ = true;
    giveUp_.stop();
    if (link_) link_->stop();
  }

 private:
  void watch(std::size_t index);

  uv_loop_t* loop_;
  const common::RedisEndpoint& endpoint_;
  std::string clientName_;
  std::chrono::milliseconds replyTimeout_;
  std::function<void(const std::string&)> onSwitch_;
  std::size_t index_ = 0;
  bool stopped_ = false;
  std::unique_ptr<ShardSubscriber> link_;
  std::unique_ptr<ShardSubscriber> retired_;  // the link whose callback is running
  Timer giveUp_;
};

}  // namespace chat::gateway
