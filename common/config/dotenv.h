#pragma once
// Parses a `.env` file: KEY=VALUE lines, optional `export `, `#` comments,
// values in single quotes (literal) or double quotes (with \n \" \\ escapes).
// Pure, any thread.

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace chat::common {

using DotEnvEntries = std::vector<std::pair<std::string, std::string>>;

// The entries in file order, or "line N: what is wrong".
std::variant<DotEnvEntries, std::string> parseDotEnv(std::string_view content);

}  // namespace chat::common
