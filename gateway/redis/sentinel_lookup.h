#pragma once
// Finds a Redis primary through Redis Sentinel (redis+sentinel://): asks each
// sentinel in turn `SENTINEL get-master-addr-by-name`, each within a deadline,
// and reports the first address one gives, or nothing when none does. Asked
// again before every (re)connect, so a failover is followed; the caller checks
// ROLE on the primary, as a sentinel's answer can be stale. Owned by one
// RedisConnection; destroying it cancels the lookup. Loop thread only.

#include <hiredis/async.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "config/redis_url.h"
#include "loop/uv_handles.h"

namespace chat::gateway {

class SentinelLookup {
 public:
  using Address = std::pair<std::string, std::uint16_t>;
  using Done = std::function<void(std::optional<Address>)>;

  SentinelLookup(uv_loop_t* loop, const common::RedisEndpoint& endpoint);
  ~SentinelLookup();
  SentinelLookup(const SentinelLookup&) = delete;
  SentinelLookup& operator=(const SentinelLookup&) = delete;

  // Starts asking; `done` runs once (not after the lookup is destroyed).
  void start(Done done);

 private:
  void ask(std::size_t index);
  void answered(redisReply* reply);
  static void onReply(redisAsyncContext* ctx, void* reply, void* privdata);

  uv_loop_t* loop_;
  const common::RedisEndpoint& endpoint_;
  Done done_;
  std::size_t index_ = 0;
  redisAsyncContext* ctx_ = nullptr;  // the sentinel being asked; hiredis frees it
  bool cancelled_ = false;
  Timer deadline_;
};

}  // namespace chat::gateway
