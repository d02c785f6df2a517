#include "sanitizer_report.h"

#include <array>
#include <cstddef>

namespace chat::testing {
namespace {

constexpr std::array<std::string_view, 4> kMarkers = {
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
};

std::size_t firstMarker(std::string_view log) {
  std::size_t first = std::string_view::npos;
  for (std::string_view marker : kMarkers) {
    std::size_t at = log.find(marker);
    if (at < first) first = at;
  }
  return first;
}

}  // namespace

bool containsSanitizerReport(std::string_view log) {
  return firstMarker(log) != std::string_view::npos;
}

std::string sanitizerReportExcerpt(std::string_view log) {
  std::size_t at = firstMarker(log);
  if (at == std::string_view::npos) return {};
  // Start three lines early: the gateway's last log lines say what it was doing.
  std::size_t start = at;
  for (int lines = 0; lines < 4 && start > 0; ++lines) {
    std::size_t previous = log.rfind('\n', start - 1);
    start = previous == std::string_view::npos ? 0 : previous;
  }
  if (log[start] == '\n') ++start;
  constexpr std::size_t kMaxExcerpt = 6000;
  return std::string(log.substr(start, kMaxExcerpt));
}

}  // namespace chat::testing
