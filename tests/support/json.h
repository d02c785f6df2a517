#pragma once
// Small JSON helpers over RapidJSON for tests: parse a received frame and read
// its fields without undefined behaviour on a wrong type, and build the frames
// a plain (tutorial) client sends. RapidJSON stays out of this header.
// Any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::testing {

// A parsed JSON object; field accessors return nullopt when the field is
// absent or of another type.
class JsonObject {
 public:
  // nullopt (and `error`) when `text` is not one valid UTF-8 JSON object.
  static std::optional<JsonObject> parse(std::string_view text, std::string* error = nullptr);

  bool has(std::string_view key) const;
  bool isString(std::string_view key) const { return string(key).has_value(); }
  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::vector<std::string> keys() const;

 private:
  struct Impl;
  explicit JsonObject(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

// A chat message frame (docs/protocol.md section 3).
struct ChatMessage {
  std::string type;
  std::string room;
  std::string epoch;
  std::int64_t id = 0;
  std::int64_t ts = 0;
  std::string username;
  std::string text;
  std::string raw;  // the frame as received
};

// nullopt (and `error`) unless `frame` is an object with every field of a
// message frame, of the right type.
std::optional<ChatMessage> parseChatMessage(std::string_view frame, std::string* error = nullptr);

// {"username":..,"text":..}, what the tutorial page sends.
std::string plainMessageJson(std::string_view username, std::string_view text);

// A JSON string literal, quotes included.
std::string jsonString(std::string_view value);

}  // namespace chat::testing
