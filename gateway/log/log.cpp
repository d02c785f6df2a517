#include "log/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace chat::gateway {
namespace {

common::LogLevel gLevel = common::LogLevel::kInfo;
std::string gGatewayId = "gateway";

std::string_view levelName(common::LogLevel level) {
  switch (level) {
    case common::LogLevel::kDebug:
      return "debug";
    case common::LogLevel::kInfo:
      return "info";
    case common::LogLevel::kWarn:
      return "warn";
    case common::LogLevel::kError:
      return "error";
  }
  return "info";
}

// logfmt: bare when safe, otherwise double-quoted with \" \\ \n escaped.
void appendValue(std::string& line, std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) bare = false;
  }
  if (bare) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (static_cast<unsigned char>(c) < ' ') {
      line += '?';
    } else {
      line += c;
    }
  }
  line += '"';
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void Log::configure(common::LogLevel level, std::string gatewayId) {
  gLevel = level;
  gGatewayId = std::move(gatewayId);
}

bool Log::enabled(common::LogLevel level) {
  return level >= gLevel;
}

void Log::write(common::LogLevel level, std::string_view event,
                std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160);
  line += "ts=";
  line += timestamp();
  line += " level=";
  line += levelName(level);
  line += " gateway=";
  appendValue(line, gGatewayId);
  line += " event=";
  appendValue(line, event);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    appendValue(line, value);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void Log::debug(std::string_view e, std::initializer_list<LogField> f) {
  write(common::LogLevel::kDebug, e, f);
}
void Log::info(std::string_view e, std::initializer_list<LogField> f) {
  write(common::LogLevel::kInfo, e, f);
}
void Log::warn(std::string_view e, std::initializer_list<LogField> f) {
  write(common::LogLevel::kWarn, e, f);
}
void Log::error(std::string_view e, std::initializer_list<LogField> f) {
  write(common::LogLevel::kError, e, f);
}

}  // namespace chat::gateway
