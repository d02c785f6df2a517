#include "protocol/codec.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "protocol/validation.h"
#include "util/utf8.h"

namespace chat::common {
namespace {

constexpr std::string_view kHeaderRoom = R"({"type":"message","room":")";
constexpr std::string_view kHeaderEpoch = R"(","epoch":")";
constexpr std::string_view kHeaderId = R"(","id":)";
constexpr std::string_view kHeaderTs = R"(,"ts":)";
constexpr std::string_view kTombstoneTail = R"("deleted":true})";
constexpr std::string_view kDeleteHead = R"({"type":"delete","room":")";

PlainDecodeResult refuse(Refusal r, std::string reason) {
  return {std::nullopt, r, std::move(reason)};
}

// Consumes `literal` from the front of `in`.
bool consume(std::string_view& in, std::string_view literal) {
  if (in.substr(0, literal.size()) != literal) return false;
  in.remove_prefix(literal.size());
  return true;
}

// Consumes characters up to (not including) the next '"'.
std::optional<std::string_view> consumeUntilQuote(std::string_view& in) {
  const auto end = in.find('"');
  if (end == std::string_view::npos) return std::nullopt;
  auto value = in.substr(0, end);
  in.remove_prefix(end);
  return value;
}

template <typename Int>
bool consumeInteger(std::string_view& in, Int& out) {
  const auto [ptr, ec] = std::from_chars(in.data(), in.data() + in.size(), out);
  if (ec != std::errc() || ptr == in.data()) return false;
  in.remove_prefix(static_cast<std::size_t>(ptr - in.data()));
  return true;
}

}  // namespace

PlainDecodeResult decodePlainFrame(std::string_view json, std::size_t maxTextCodePoints) {
  if (!isValidUtf8(json)) return refuse(Refusal::kInvalidUtf8, "invalid UTF-8");
  // RapidJSON stops at a NUL; JSON never holds a raw one, so refuse it whole.
  if (json.find('\0') != std::string_view::npos)
    return refuse(Refusal::kInvalidJson, "invalid JSON");
  rapidjson::Document doc;
  // Iterative parsing: deeply nested input must not grow the stack.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) return refuse(Refusal::kInvalidJson, "invalid JSON");
  if (!doc.IsObject()) return refuse(Refusal::kNotAnObject, "expected a JSON object");

  const auto username = doc.FindMember("username");
  const auto text = doc.FindMember("text");
  if (username == doc.MemberEnd() || text == doc.MemberEnd())
    return refuse(Refusal::kMissingField, "username and text are required");
  if (!username->value.IsString() || !text->value.IsString())
    return refuse(Refusal::kWrongType, "username and text must be strings");

  const std::string_view rawText(text->value.GetString(), text->value.GetStringLength());
  if (auto r = checkText(rawText, maxTextCodePoints)) {
    switch (*r) {
      case Refusal::kEmptyText:
        return refuse(*r, "empty text");
      case Refusal::kTextTooLong:
        return refuse(*r, "text too long");
      case Refusal::kTextHasNul:
        return refuse(*r, "text contains NUL");
      default:
        return refuse(*r, "text is not valid UTF-8");
    }
  }

  const std::string_view rawName(username->value.GetString(), username->value.GetStringLength());
  PlainSend send;
  if (isValidUtf8(rawName) && isBlank(rawName)) {
    send.username = kAnonymous;
  } else {
    auto check = checkUsername(rawName);
    if (check.refusal)
      return refuse(*check.refusal, "username must be 1-32 characters, no controls");
    send.username = std::move(check.username);
  }
  send.text = rawText;
  return {std::move(send), std::nullopt, {}};
}

void appendJsonString(std::string& out, std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  out.append(buffer.GetString(), buffer.GetSize());
}

std::string encodeMessageBody(std::string_view username, std::string_view text) {
  std::string body;
  body.reserve(username.size() + text.size() + 32);
  body += R"("username":)";
  appendJsonString(body, username);
  body += R"(,"text":)";
  appendJsonString(body, text);
  body += '}';
  return body;
}

std::string composeStoredFrame(std::string_view room, std::string_view epoch, std::uint64_t id,
                               std::int64_t ts, std::string_view body) {
  std::string frame;
  frame.reserve(kHeaderRoom.size() + room.size() + epoch.size() + body.size() + 64);
  frame += kHeaderRoom;
  frame += room;
  frame += kHeaderEpoch;
  frame += epoch;
  frame += kHeaderId;
  frame += std::to_string(id);
  frame += kHeaderTs;
  frame += std::to_string(ts);
  frame += ',';
  frame += body;
  return frame;
}

std::optional<MessageHeader> parseMessageHeader(std::string_view frame) {
  MessageHeader h;
  std::string_view in = frame;
  if (!consume(in, kHeaderRoom)) return std::nullopt;
  auto room = consumeUntilQuote(in);
  if (!room || !consume(in, kHeaderEpoch)) return std::nullopt;
  auto epoch = consumeUntilQuote(in);
  if (!epoch || !consume(in, kHeaderId) || !consumeInteger(in, h.id)) return std::nullopt;
  if (!consume(in, kHeaderTs) || !consumeInteger(in, h.ts) || !consume(in, ","))
    return std::nullopt;
  if (!isValidRoomName(*room) || frame.back() != '}') return std::nullopt;
  h.room = *room;
  h.epoch = *epoch;
  h.deleted = in == kTombstoneTail;
  return h;
}

std::string composeTombstone(const MessageHeader& header) {
  return composeStoredFrame(header.room, header.epoch, header.id, header.ts, kTombstoneTail);
}

std::string composeDeleteEvent(std::string_view room, std::string_view epoch, std::uint64_t id) {
  std::string frame(kDeleteHead);
  frame += room;
  frame += kHeaderEpoch;
  frame += epoch;
  frame += kHeaderId;
  frame += std::to_string(id);
  frame += '}';
  return frame;
}

std::optional<DeleteEvent> parseDeleteEvent(std::string_view frame) {
  DeleteEvent event;
  std::string_view in = frame;
  if (!consume(in, kDeleteHead)) return std::nullopt;
  auto room = consumeUntilQuote(in);
  if (!room || !consume(in, kHeaderEpoch)) return std::nullopt;
  auto epoch = consumeUntilQuote(in);
  if (!epoch || !consume(in, kHeaderId) || !consumeInteger(in, event.id) || in != "}")
    return std::nullopt;
  if (!isValidRoomName(*room)) return std::nullopt;
  event.room = *room;
  event.epoch = *epoch;
  return event;
}

}  // namespace chat::common
