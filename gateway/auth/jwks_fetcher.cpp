#include "auth/jwks_fetcher.h"

#include <utility>

#include "log/log.h"

namespace chat::gateway {

JwksFetcher::JwksFetcher(uv_loop_t* loop, std::string url,
                         std::shared_ptr<common::JwksKeyRing> ring)
    : loop_(loop),
      url_(std::move(url)),
      ring_(std::move(ring)),
      http_(loop),
      periodic_(loop),
      gapTimer_(loop) {
  ring_->refetch = [this](std::function<void()> done) { refetch(std::move(done)); };
}

JwksFetcher::~JwksFetcher() {
  ring_->refetch = nullptr;
}

void JwksFetcher::start() {
  fetchNow();
  periodic_.every(kRefreshPeriod, [this] { refetch(); });
}

void JwksFetcher::stop() {
  stopped_ = true;
  periodic_.stop();
  gapTimer_.stop();
  http_.cancelAll();
  inFlight_ = false;
  for (auto& waiter : std::exchange(waiters_, {}))
    waiter();
  for (auto& waiter : std::exchange(nextWaiters_, {}))
    waiter();
}

void JwksFetcher::refetch(std::function<void()> done) {
  if (stopped_) {
    if (done) done();
    return;
  }
  if (inFlight_) {
    if (done) nextWaiters_.push_back(std::move(done));
    return;
  }
  if (done) waiters_.push_back(std::move(done));
  if (gapTimer_.active()) return;
  const std::uint64_t sinceLast = uv_now(loop_) - lastStartMs_;
  const auto gap = static_cast<std::uint64_t>(std::chrono::milliseconds(kMinGap).count());
  if (!everStarted_ || sinceLast >= gap) {
    fetchNow();
  } else {
    gapTimer_.once(std::chrono::milliseconds(gap - sinceLast), [this] { fetchNow(); });
  }
}

void JwksFetcher::fetchNow() {
  if (inFlight_ || stopped_) return;
  inFlight_ = true;
  everStarted_ = true;
  lastStartMs_ = uv_now(loop_);
  http_.get(url_, [this](CurlClient::Response response) { onFetched(std::move(response)); });
}

void JwksFetcher::onFetched(CurlClient::Response response) {
  inFlight_ = false;
  std::string problem = response.error;
  if (problem.empty() && response.status != 200)
    problem = "answered HTTP " + std::to_string(response.status);
  if (problem.empty()) {
    common::JwksParse parsed = common::parseJwks(response.body);
    if (!parsed.keys) {
      problem = "not a key set: " + parsed.error;
    } else if (parsed.keys->empty()) {
      problem = "no usable key: " + parsed.error;
    } else {
      Log::info("jwks_loaded",
                {{"keys", std::to_string(parsed.keys->size())}, {"skipped", parsed.error}});
      ring_->keys = std::move(*parsed.keys);
      ring_->loaded = true;
    }
  }
  if (!problem.empty()) {
    // The keys held stay in use; until a first load, try again after the gap.
    Log::warn("jwks_fetch_failed", {{"url", url_}, {"detail", problem}});
    if (!ring_->loaded) refetch();
  }
  auto answered = std::exchange(waiters_, {});
  // Those who asked during this fetch get the next one (after the gap).
  for (auto& waiter : std::exchange(nextWaiters_, {}))
    refetch(std::move(waiter));
  for (auto& waiter : answered)
    waiter();
}

}  // namespace chat::gateway
