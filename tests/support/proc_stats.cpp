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

std::vector<pid_t> processTree(pid_t pid) {
  std::vector<pid_t> pids{pid};
  const std::string id = std::to_string(pid);
  const std::string children = readFile("/proc/" + id + "/task/" + id + "/children");
  std::size_t pos = 0;
  while (pos < children.size()) {
    pid_t child = 0;
    const auto [end, ec] =
        std::from_chars(children.data() + pos, children.data() + children.size(), child);
    if (ec != std::errc()) {
      ++pos;
      continue;
    }
    pids.push_back(child);
    pos = static_cast<std::size_t>(end - children.data());
  }
  return pids;
}

namespace {

std::optional<std::size_t> sumOverTree(pid_t pid, std::optional<std::size_t> (*read)(pid_t)) {
  std::optional<std::size_t> total;
  for (pid_t p : processTree(pid)) {
    const auto value = read(p);
    if (!value) continue;  // a worker that is being replaced
    total = total.value_or(0) + *value;
  }
  return total;
}

}  // namespace

std::optional<std::size_t> treeResidentKib(pid_t pid) {
  return sumOverTree(pid, residentKib);
}

std::optional<std::size_t> treeOpenFdCount(pid_t pid) {
  return sumOverTree(pid, openFdCount);
}

}  // namespace chat::testing
