#include "config/dotenv.h"

namespace chat::common {
namespace {

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

bool isKey(std::string_view key) {
  if (key.empty() || (key.front() >= '0' && key.front() <= '9')) return false;
  for (char c : key) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// Parses the value part; returns false on an unterminated quote or trailing junk.
bool parseValue(std::string_view raw, std::string& out) {
  raw = trim(raw);
  if (raw.empty()) return true;
  const char quote = raw.front();
  if (quote != '"' && quote != '\'') {
    const auto comment = raw.find(" #");
    out = trim(raw.substr(0, comment));
    return true;
  }
  std::size_t i = 1;
  for (; i < raw.size() && raw[i] != quote; ++i) {
    if (quote == '"' && raw[i] == '\\' && i + 1 < raw.size()) {
      const char e = raw[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else {
      out += raw[i];
    }
  }
  if (i >= raw.size()) return false;
  const auto after = trim(raw.substr(i + 1));
  return after.empty() || after.front() == '#';
}

}  // namespace

std::variant<DotEnvEntries, std::string> parseDotEnv(std::string_view content) {
  DotEnvEntries entries;
  std::size_t lineNo = 0;
  while (!content.empty()) {
    ++lineNo;
    const auto newline = content.find('\n');
    std::string_view line = trim(content.substr(0, newline));
    content = newline == std::string_view::npos ? std::string_view{} : content.substr(newline + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
    const auto eq = line.find('=');
    const auto where = "line " + std::to_string(lineNo) + ": ";
    if (eq == std::string_view::npos) return where + "expected KEY=VALUE";
    const auto key = trim(line.substr(0, eq));
    if (!isKey(key)) return where + "bad variable name";
    std::string value;
    if (!parseValue(line.substr(eq + 1), value)) return where + "unterminated quoted value";
    entries.emplace_back(std::string(key), std::move(value));
  }
  return entries;
}

}  // namespace chat::common
