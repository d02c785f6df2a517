#pragma once
// The exact bytes of parts of a JSON text, for tests that compare what the
// gateway sends with what it stored: "a message is serialized once" holds only
// if the frames inside a v1 `history` answer or a REST array are the very bytes
// of chat:{room}:history, which a parse-and-reserialize would hide. The text is
// validated with RapidJSON first, then scanned. Pure functions, any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::testing {

// The text of each element of the JSON array `text` (white space around it
// allowed), exactly as written; nullopt unless `text` is one valid JSON array.
std::optional<std::vector<std::string>> rawArrayElements(std::string_view text);

// The text of the value of member `key` of the JSON object `text`, exactly as
// written; nullopt when `text` is not one valid JSON object or has no such
// member. Keys are compared as written, without unescaping.
std::optional<std::string> rawMemberValue(std::string_view text, std::string_view key);

}  // namespace chat::testing
