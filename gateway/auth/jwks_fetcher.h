#pragma once
// Keeps a process's AUTH_JWKS_URL key set current (docs/protocol.md section
// 10): fetched at start (the worker is not ready until it is loaded, since no
// RS256/ES256 token can be checked before), every 5 minutes, and again when a
// token names a `kid` the set does not hold (a key rotated in), at most once
// every 5 s however many such tokens come. A failed fetch keeps the keys held.
// Loop thread only.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/jwks.h"
#include "loop/curl_client.h"
#include "loop/uv_handles.h"

namespace chat::gateway {

class JwksFetcher {
 public:
  static constexpr std::chrono::seconds kMinGap{5};
  static constexpr std::chrono::minutes kRefreshPeriod{5};

  JwksFetcher(uv_loop_t* loop, std::string url, std::shared_ptr<common::JwksKeyRing> ring);
  ~JwksFetcher();
  JwksFetcher(const JwksFetcher&) = delete;
  JwksFetcher& operator=(const JwksFetcher&) = delete;

  void start();
  void stop();
  // Fetches again as soon as the 5 s gap allows; `done` (if any) runs once
  // that fetch has ended, whatever its outcome.
  void refetch(std::function<void()> done = {});
  bool loaded() const { return ring_->loaded; }

 private:
  void fetchNow();
  void onFetched(CurlClient::Response response);

  uv_loop_t* loop_;
  std::string url_;
  std::shared_ptr<common::JwksKeyRing> ring_;
  CurlClient http_;
  Timer periodic_;
  Timer gapTimer_;
  bool inFlight_ = false;
  bool stopped_ = false;
  std::uint64_t lastStartMs_ = 0;
  bool everStarted_ = false;
  std::vector<std::function<void()>> waiters_;  // answered by the fetch in flight
  // Asked while a fetch was in flight (it may predate their key): the next one.
  std::vector<std::function<void()>> nextWaiters_;
};

}  // namespace chat::gateway
