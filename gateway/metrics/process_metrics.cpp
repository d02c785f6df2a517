#include "metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace chat::gateway {
namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  char line[256];
  std::snprintf(line, sizeof line, "# HELP %.*s %.*s\n# TYPE %.*s %.*s\n%.*s %.17g\n",
                static_cast<int>(name.size()), name.data(), static_cast<int>(help.size()),
                help.data(), static_cast<int>(name.size()), name.data(),
                static_cast<int>(type.size()), type.data(), static_cast<int>(name.size()),
                name.data(), value);
  out += line;
}

int countOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own fd
}

double bootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

ProcessSample readProcessSample() {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double pageSize = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  // Fields after the parenthesized command name; see proc(5).
  const auto close = stat.rfind(')');
  std::istringstream fields(close == std::string::npos ? std::string() : stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0, startTicks = 0, vsize = 0, rssPages = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
    if (i == 22) startTicks = std::stod(field);
    if (i == 23) vsize = std::stod(field);
    if (i == 24) {
      rssPages = std::stod(field);
      break;
    }
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  ProcessSample sample;
  sample.cpuSeconds = (utime + stime) / ticks;
  sample.residentBytes = rssPages * pageSize;
  sample.virtualBytes = vsize;
  sample.openFds = countOpenFds();
  sample.maxFds = static_cast<double>(limit.rlim_cur);
  sample.startTimeSeconds = bootTimeSeconds() + startTicks / ticks;
  return sample;
}

void writeProcessMetrics(std::string& out, const ProcessSample& sample) {
  metric(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
         sample.cpuSeconds);
  metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         sample.residentBytes);
  metric(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         sample.virtualBytes);
  metric(out, "process_open_fds", "gauge", "Number of open file descriptors.", sample.openFds);
  metric(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
         sample.maxFds);
  metric(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", sample.startTimeSeconds);
}

}  // namespace chat::gateway
