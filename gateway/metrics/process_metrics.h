#pragma once
// The standard process_* metrics of the Prometheus client libraries, read from
// /proc/self. Each worker samples its own process; /metrics adds the workers'
// samples up (WorkerBoard), so the gateway reports as one. Any thread.

#include <cstdint>
#include <string>

namespace chat::gateway {

struct ProcessSample {
  double cpuSeconds = 0;  // user + system, since the process started
  double residentBytes = 0;
  double virtualBytes = 0;
  double openFds = 0;
  double maxFds = 0;
  double startTimeSeconds = 0;  // since the Unix epoch
};

ProcessSample readProcessSample();

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds, with HELP and TYPE lines.
void writeProcessMetrics(std::string& out, const ProcessSample& sample);

}  // namespace chat::gateway
