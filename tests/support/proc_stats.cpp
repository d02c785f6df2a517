#include "proc_stats.h"

#include <charconv>
#include <filesystem>
#include <string>
#include <system_error>

#include "process.h"

namespace chat::testing {

std::optional<std::size_t> residentKib(pid_t pid) {
  const std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  const std::string_view key = "\nVmRSS:";
  const auto at = status.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::size_t pos = at + key.size();
  while (pos < status.size() && (status[pos] == ' ' || status[pos] == '\t'))
    ++pos;
  std::size_t kib = 0;
  const auto [end, ec] = std::from_chars(status.data() + pos, status.data() + status.size(), kib);
  if (ec != std::errc() || end == status.data() + pos) return std::nullopt;
  return kib;
}

std::optional<std::size_t> openFdCount(pid_t pid) {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error);
  if (error) return std::nullopt;
  std::size_t count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

}  // namespace chat::testing
