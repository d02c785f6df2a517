// parseDotEnv on arbitrary file contents. Checks that every entry has a valid
// variable name, that an error names its line, and that the entries written
// back as KEY="value" lines (with \\ \" \n escaped) parse to the same entries.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "config/dotenv.h"
#include "fuzz_check.h"

namespace {

using namespace chat::common;

bool isKey(std::string_view key) {
  if (key.empty() || (key.front() >= '0' && key.front() <= '9')) return false;
  for (char c : key) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = parseDotEnv(chat::fuzz::asView(data, size));
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(error->rfind("line ", 0) == 0);
    return 0;
  }
  const auto& entries = std::get<DotEnvEntries>(parsed);
  std::string rewritten;
  for (const auto& [key, value] : entries) {
    FUZZ_CHECK(isKey(key));
    rewritten += key + "=" + quoted(value) + "\n";
  }
  const auto again = parseDotEnv(rewritten);
  const auto* reparsed = std::get_if<DotEnvEntries>(&again);
  FUZZ_CHECK(reparsed != nullptr);
  FUZZ_CHECK(*reparsed == entries);
  return 0;
}
