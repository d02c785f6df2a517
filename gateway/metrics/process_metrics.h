#pragma once
// The standard process_* metrics of the Prometheus client libraries, read from
// /proc/self on each scrape. Any thread.

#include <string>

namespace chat::gateway {

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds, with HELP and TYPE lines.
void writeProcessMetrics(std::string& out);

}  // namespace chat::gateway
