#pragma once
// Small helpers of the load generator's coordinating process: a JSON object
// writer for the one-line result, /proc sampling of the measured processes,
// and two tiny loopback clients (Redis INFO over RESP, HTTP GET /metrics).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lg_stats.h"

namespace chat::load {

class JsonObject {
 public:
  JsonObject& num(std::string_view key, double value, int decimals = 3);
  JsonObject& integer(std::string_view key, std::int64_t value);
  JsonObject& str(std::string_view key, std::string_view value);
  JsonObject& boolean(std::string_view key, bool value);
  JsonObject& raw(std::string_view key, std::string_view json);
  std::string text() const { return body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_ = "{";
};

std::string jsonString(std::string_view s);
// {"n":..,"mean":..,"p50":..,"p90":..,"p99":..,"p999":..,"max":..} in ms
std::string latencyJson(const Histogram& h);

struct ProcSample {
  pid_t pid = 0;
  bool alive = false;
  double cpuSeconds = 0;  // utime + stime
  std::int64_t rssKb = 0;
  std::int64_t hwmKb = 0;
  std::int64_t atNs = 0;
};
ProcSample sampleProc(pid_t pid);
std::vector<ProcSample> sampleProcs(const std::vector<pid_t>& pids);
// [{"pid":..,"cpu_s":..,"cpu_pct":..,"rss_mb":..,"hwm_mb":..}], and the totals.
std::string procDeltaJson(const std::vector<ProcSample>& before,
                          const std::vector<ProcSample>& after, double& cpuSeconds, double& rssMb);

// INFO commandstats of a Redis at a loopback host:port: calls per command
// ("evalsha" -> 123). nullopt when it cannot be read within ~2 s.
std::optional<std::map<std::string, std::uint64_t>> redisCommandCalls(std::string_view hostPort);
// Parses the INFO commandstats text (unit-tested).
std::map<std::string, std::uint64_t> parseCommandStats(std::string_view info);

// The value of one Prometheus sample line "name value" on GET /metrics.
std::optional<double> metricValue(std::string_view hostPort, std::string_view name);
std::optional<double> parseMetric(std::string_view page, std::string_view name);

}  // namespace chat::load
