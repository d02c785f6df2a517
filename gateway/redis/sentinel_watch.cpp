#include "redis/sentinel_watch.h"

#include "log/log.h"

namespace chat::gateway {
namespace {

constexpr std::string_view kSwitchChannel = "+switch-master";

}  // namespace

SentinelWatch::SentinelWatch(uv_loop_t* loop, const common::RedisEndpoint& endpoint,
                             std::string clientName, std::chrono::milliseconds replyTimeout,
                             std::function<void(const std::string&)> onSwitch)
    : loop_(loop),
      endpoint_(endpoint),
      clientName_(std::move(clientName)),
      replyTimeout_(replyTimeout),
      onSwitch_(std::move(onSwitch)),
      giveUp_(loop) {}

void SentinelWatch::watch(std::size_t index) {
  if (stopped_ || endpoint_.sentinels.empty()) return;
  index_ = index % endpoint_.sentinels.size();
  const auto& [host, port] = endpoint_.sentinels[index_];
  // The link may be replaced from inside its own callback: keep it alive
  // until the next one is made.
  retired_ = std::move(link_);
  if (retired_) retired_->stop();
  link_ = std::make_unique<ShardSubscriber>(
      loop_, ClusterNode{host, port}, ShardSubscriber::Credentials{{}, endpoint_.sentinelPassword},
      clientName_, replyTimeout_,
      ShardSubscriber::Listener{
          .onUp = [this] { link_->subscribe(kSwitchChannel); },
          // Another sentinel next time: this one may be the one that is gone.
          .onDown = [this] { watch(index_ + 1); },
          .onSubscribed = [](std::string_view) {},
          .onUnsubscribed = [](std::string_view) {},
          .onRefused =
              [](std::string_view, std::string_view error) {
                Log::warn("sentinel_watch_refused", {{"detail", error}});
              },
          .onMessage =
              [this](std::string_view channel, std::string_view payload) {
                // "<master> <old-ip> <old-port> <new-ip> <new-port>"
                if (channel != kSwitchChannel) return;
                const auto space = payload.find(' ');
                if (payload.substr(0, space) != endpoint_.masterName) return;
                const auto newAt = payload.find(' ', payload.find(' ', space + 1) + 1);
                const std::string primary(
                    newAt == std::string_view::npos ? payload : payload.substr(newAt + 1));
                Log::info("sentinel_switch_master",
                          {{"master", endpoint_.masterName}, {"primary", primary}});
                onSwitch_(primary);
              }},
      /*sharded=*/false);
  link_->start();
  // A sentinel that never answers is left for the next one.
  giveUp_.once(replyTimeout_ * 2, [this] {
    if (!link_->isUp()) watch(index_ + 1);
  });
}

}  // namespace chat::gateway
