#include "protocol/v1_codec.h"

#include <rapidjson/document.h>

#include <utility>

#include "protocol/codec.h"
#include "protocol/validation.h"
#include "util/utf8.h"

namespace chat::common {
namespace {

constexpr int kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
constexpr std::string_view kJsonSpace = " \t\r\n";

constexpr std::string_view kRoomRule = "room must be 1-64 characters of A-Z a-z 0-9 _ . -";
constexpr std::string_view kRefRule = "ref must be at most 64 bytes, without control characters";
constexpr std::string_view kSinceRule = "since must be an integer from 0 to 2^53";
constexpr std::string_view kBeforeRule = "before must be an integer from 1 to 2^53";
constexpr std::string_view kLimitRule = "limit must be an integer from 1 to 100";

// Why one field was refused; the caller adds the ref and the error code.
struct FieldError {
  Refusal reason;
  std::string message;
};
using FieldCheck = std::optional<FieldError>;

FieldError fieldError(Refusal reason, std::string_view message) {
  return {reason, std::string(message)};
}

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// The value of an optional member; nullptr when it is absent or `null`, which
// clients commonly send for "not given".
const rapidjson::Value* optionalMember(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// C0, DEL and C1 controls.
bool isControl(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

bool isValidRef(std::string_view ref) {
  if (ref.size() > kMaxRefBytes || !isValidUtf8(ref)) return false;
  for (std::size_t pos = 0; pos < ref.size();) {
    if (isControl(decodeValidCodePoint(ref, pos))) return false;
  }
  return true;
}

bool isValidEpoch(std::string_view epoch) {
  if (epoch.size() > kMaxEpochLength) return false;
  for (char c : epoch) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

FieldCheck readRoom(const rapidjson::Value& object, std::string& room) {
  const auto* v = optionalMember(object, "room");
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) return fieldError(Refusal::kWrongType, "room must be a string");
  const auto name = view(*v);
  // Empty means "not given": the gateway picks the connection's default room.
  if (!name.empty() && !isValidRoomName(name)) return fieldError(Refusal::kBadRoom, kRoomRule);
  room = name;
  return std::nullopt;
}

FieldCheck readRef(const rapidjson::Value& object, std::string& ref) {
  const auto* v = optionalMember(object, "ref");
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) return fieldError(Refusal::kWrongType, "ref must be a string");
  if (!isValidRef(view(*v))) return fieldError(Refusal::kBadField, kRefRule);
  ref = view(*v);
  return std::nullopt;
}

FieldCheck readText(const rapidjson::Value& object, std::size_t maxCodePoints, std::string& text) {
  const auto it = object.FindMember("text");
  if (it == object.MemberEnd()) return fieldError(Refusal::kMissingField, "text is required");
  if (!it->value.IsString()) return fieldError(Refusal::kWrongType, "text must be a string");
  const auto raw = view(it->value);
  if (const auto r = checkText(raw, maxCodePoints)) {
    switch (*r) {
      case Refusal::kEmptyText:
        return fieldError(*r, "text is empty");
      case Refusal::kTextTooLong:
        return fieldError(*r,
                          "text is longer than " + std::to_string(maxCodePoints) + " characters");
      case Refusal::kTextHasNul:
        return fieldError(*r, "text contains NUL");
      default:
        return fieldError(*r, "text is not valid UTF-8");
    }
  }
  text = raw;
  return std::nullopt;
}

FieldCheck readEpoch(const rapidjson::Value& object, std::string& epoch) {
  const auto* v = optionalMember(object, "epoch");
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) return fieldError(Refusal::kWrongType, "epoch must be a string");
  epoch = isValidEpoch(view(*v)) ? view(*v) : kForeignEpoch;
  return std::nullopt;
}

// An optional integer in [min, max]. Only integer literals count: RapidJSON
// reads 1.0 and 1e3 as doubles, and negative numbers fail IsUint64.
FieldCheck readInteger(const rapidjson::Value& object, const char* name, std::uint64_t min,
                       std::uint64_t max, std::string_view rule,
                       std::optional<std::uint64_t>& out) {
  const auto* v = optionalMember(object, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsNumber()) return fieldError(Refusal::kWrongType, rule);
  if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max)
    return fieldError(Refusal::kBadField, rule);
  out = v->GetUint64();
  return std::nullopt;
}

std::optional<V1FrameType> frameType(std::string_view type) {
  if (type == "message") return V1FrameType::kMessage;
  if (type == "join") return V1FrameType::kJoin;
  if (type == "leave") return V1FrameType::kLeave;
  if (type == "history") return V1FrameType::kHistory;
  if (type == "auth") return V1FrameType::kAuth;
  if (type == "refresh") return V1FrameType::kRefresh;
  return std::nullopt;
}

FieldCheck readTypeFields(const rapidjson::Value& object, std::size_t maxTextCodePoints,
                          V1ClientFrame& frame) {
  switch (frame.type) {
    case V1FrameType::kMessage:
      return readText(object, maxTextCodePoints, frame.text);
    case V1FrameType::kJoin:
      if (auto e = readInteger(object, "since", 0, kMaxJsonInteger, kSinceRule, frame.since))
        return e;
      return readEpoch(object, frame.epoch);
    case V1FrameType::kLeave:
      return std::nullopt;
    case V1FrameType::kAuth:
    case V1FrameType::kRefresh: {
      const auto it = object.FindMember("token");
      if (it == object.MemberEnd()) return fieldError(Refusal::kMissingField, "token is required");
      if (!it->value.IsString() || it->value.GetStringLength() == 0 ||
          it->value.GetStringLength() > 8192)
        return fieldError(Refusal::kWrongType, "token must be a string of 1-8192 bytes");
      frame.token = view(it->value);
      return std::nullopt;
    }
    case V1FrameType::kHistory: {
      if (auto e = readInteger(object, "before", 1, kMaxJsonInteger, kBeforeRule, frame.before))
        return e;
      std::optional<std::uint64_t> limit;
      if (auto e = readInteger(object, "limit", 1, kMaxHistoryLimit, kLimitRule, limit)) return e;
      if (limit) frame.limit = static_cast<std::size_t>(*limit);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

V1DecodeResult refuse(Refusal reason, std::string message, std::string ref = {}) {
  return {std::nullopt,
          V1Refusal{V1ErrorCode::kInvalid, reason, std::move(message), std::move(ref)}, false};
}

// Appends `,"name":` followed by `value` as a JSON string.
void appendStringField(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  appendJsonString(out, value);
}

}  // namespace

std::string_view v1ErrorCodeName(V1ErrorCode code) {
  switch (code) {
    case V1ErrorCode::kInvalid:
      return "invalid";
    case V1ErrorCode::kTooLarge:
      return "too_large";
    case V1ErrorCode::kRateLimited:
      return "rate_limited";
    case V1ErrorCode::kForbidden:
      return "forbidden";
    case V1ErrorCode::kUnavailable:
      return "unavailable";
    case V1ErrorCode::kNotJoined:
      return "not_joined";
  }
  return "invalid";
}

namespace {
V1DecodeResult decodeV1FrameFields(std::string_view json, std::size_t maxTextCodePoints);
}  // namespace

std::optional<std::string> refInPrefix(std::string_view prefix) {
  // A small scanner over the top-level object: strings are skipped whole
  // (escapes included), so a "ref" inside a text never counts.
  std::size_t pos = 0;
  int depth = 0;
  bool expectKey = false;
  std::string_view lastKey;
  const auto readString = [&](std::string_view& out) {
    const std::size_t start = ++pos;  // past the opening quote
    while (pos < prefix.size() && prefix[pos] != '"')
      pos += prefix[pos] == '\\' ? 2 : 1;
    if (pos >= prefix.size()) return false;
    out = prefix.substr(start, pos - start);
    ++pos;
    return true;
  };
  while (pos < prefix.size()) {
    const char c = prefix[pos];
    if (c == '"') {
      std::string_view value;
      if (!readString(value)) return std::nullopt;  // cut off inside a string
      if (depth == 1 && expectKey) {
        lastKey = value;
        expectKey = false;
      } else if (depth == 1 && lastKey == "ref") {
        std::string ref(value);
        if (ref.find('\\') != std::string::npos || !isValidRef(ref)) return std::nullopt;
        return ref;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      expectKey = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expectKey = true;
      lastKey = {};
    }
    ++pos;
  }
  return std::nullopt;
}

V1DecodeResult decodeV1Frame(std::string_view json, std::size_t maxTextCodePoints) {
  V1DecodeResult result = decodeV1FrameFields(json, maxTextCodePoints);
  // kInvalidUtf8 means the frame's bytes: a JSON escape that decodes to a lone
  // surrogate only makes that field bad (an error frame, not a 1007 close).
  if (result.refusal && result.refusal->reason == Refusal::kInvalidUtf8 && isValidUtf8(json))
    result.refusal->reason = Refusal::kBadField;
  return result;
}

namespace {
V1DecodeResult decodeV1FrameFields(std::string_view json, std::size_t maxTextCodePoints) {
  if (json.find_first_not_of(kJsonSpace) == std::string_view::npos) return {{}, {}, true};
  if (!isValidUtf8(json)) return refuse(Refusal::kInvalidUtf8, "invalid UTF-8");
  // RapidJSON takes a NUL byte for the end of input and would accept whatever
  // follows it; NUL is never valid JSON outside a string, nor raw inside one.
  if (json.find('\0') != std::string_view::npos)
    return refuse(Refusal::kInvalidJson, "invalid JSON");

  rapidjson::Document doc;
  // Iterative parsing: deeply nested input must not grow the stack.
  doc.Parse<kParseFlags>(json.data(), json.size());
  if (doc.HasParseError()) return refuse(Refusal::kInvalidJson, "invalid JSON");
  if (!doc.IsObject()) return refuse(Refusal::kNotAnObject, "expected a JSON object");

  // Read the ref first so that every later refusal can echo it. A ref that
  // JSON escapes turned into invalid UTF-8 is not echoed: the error frame
  // would carry it and the client would have to close with 1007.
  std::string echo;
  if (const auto* ref = optionalMember(doc, "ref"); ref != nullptr && ref->IsString()) {
    if (isValidUtf8(view(*ref))) echo = view(*ref);
  }
  const auto fail = [&echo](FieldError e) {
    return refuse(e.reason, std::move(e.message), std::move(echo));
  };

  const auto type = doc.FindMember("type");
  if (type == doc.MemberEnd()) return fail(fieldError(Refusal::kMissingField, "type is required"));
  if (!type->value.IsString())
    return fail(fieldError(Refusal::kWrongType, "type must be a string"));
  const auto kind = frameType(view(type->value));
  if (!kind) {
    return fail(fieldError(Refusal::kUnknownType,
                           "unknown type: expected message, join, leave or history"));
  }

  V1ClientFrame frame;
  frame.type = *kind;
  if (auto e = readRef(doc, frame.ref)) return fail(std::move(*e));
  if (auto e = readRoom(doc, frame.room)) return fail(std::move(*e));
  if (auto e = readTypeFields(doc, maxTextCodePoints, frame)) return fail(std::move(*e));
  return {std::move(frame), std::nullopt, false};
}
}  // namespace

std::string encodeWelcome(std::string_view conn, std::string_view username,
                          std::string_view gateway) {
  std::string out = R"({"type":"welcome")";
  appendStringField(out, "conn", conn);
  appendStringField(out, "username", username);
  appendStringField(out, "gateway", gateway);
  out += '}';
  return out;
}

std::string encodeJoined(std::string_view room, std::string_view epoch, std::uint64_t lastId,
                         std::optional<bool> recovered, const std::vector<std::string>& presence,
                         std::uint64_t online) {
  std::string out = R"({"type":"joined")";
  appendStringField(out, "room", room);
  appendStringField(out, "epoch", epoch);
  out += R"(,"last_id":)";
  out += std::to_string(lastId);
  if (recovered) out += *recovered ? R"(,"recovered":true)" : R"(,"recovered":false)";
  out += R"(,"presence":[)";
  bool first = true;
  for (const auto& username : presence) {
    if (!first) out += ',';
    first = false;
    out += R"({"username":)";
    appendJsonString(out, username);
    out += '}';
  }
  out += R"(],"online":)";
  out += std::to_string(online);
  out += '}';
  return out;
}

std::string encodePresenceCount(std::string_view room, std::uint64_t online) {
  std::string out = R"({"type":"presence")";
  appendStringField(out, "room", room);
  out += R"(,"online":)";
  out += std::to_string(online);
  out += '}';
  return out;
}

std::string encodeRefreshed(std::int64_t expiresAt) {
  return R"({"type":"refreshed","exp":)" + std::to_string(expiresAt) + "}";
}

std::string encodeAck(std::string_view ref, std::uint64_t id, std::int64_t ts) {
  std::string out = R"({"type":"ack")";
  appendStringField(out, "ref", ref);
  out += R"(,"id":)";
  out += std::to_string(id);
  out += R"(,"ts":)";
  out += std::to_string(ts);
  out += '}';
  return out;
}

std::string encodeError(std::string_view ref, V1ErrorCode code, std::string_view message) {
  std::string out = R"({"type":"error")";
  if (!ref.empty()) appendStringField(out, "ref", ref);
  appendStringField(out, "code", v1ErrorCodeName(code));
  appendStringField(out, "message", message);
  out += '}';
  return out;
}

std::string encodePresence(std::string_view room, std::string_view event,
                           std::string_view username) {
  std::string out = R"({"type":"presence")";
  appendStringField(out, "room", room);
  appendStringField(out, "event", event);
  appendStringField(out, "username", username);
  out += '}';
  return out;
}

std::string encodeHistory(std::string_view room, const std::vector<std::string_view>& frames) {
  std::size_t size = room.size() + 48;
  for (const auto frame : frames)
    size += frame.size() + 1;
  std::string out;
  out.reserve(size);
  out += R"({"type":"history")";
  appendStringField(out, "room", room);
  out += R"(,"messages":[)";
  bool first = true;
  for (const auto frame : frames) {
    if (!first) out += ',';
    first = false;
    out += frame;
  }
  out += "]}";
  return out;
}

std::optional<PresenceEvent> parsePresenceEvent(std::string_view frame) {
  if (frame.find('\0') != std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(frame.data(), frame.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;

  const auto stringMember = [&doc](const char* name) -> std::optional<std::string_view> {
    const auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return view(it->value);
  };
  const auto type = stringMember("type");
  const auto room = stringMember("room");
  const auto event = stringMember("event");
  const auto username = stringMember("username");
  if (!type || *type != "presence" || !room || !isValidRoomName(*room)) return std::nullopt;
  std::optional<std::uint64_t> online;
  if (const auto count = doc.FindMember("online"); count != doc.MemberEnd()) {
    if (!count->value.IsUint64()) return std::nullopt;
    online = count->value.GetUint64();
    if (!event && !username) return PresenceEvent{std::string(*room), {}, {}, online};
  }
  if (!event || (*event != "join" && *event != "leave")) return std::nullopt;
  if (!username || username->empty() || !isValidUtf8(*username)) return std::nullopt;
  return PresenceEvent{std::string(*room), std::string(*event), std::string(*username), online};
}

std::string encodeDisconnectCommand(std::string_view username) {
  std::string out = R"({"type":"disconnect")";
  appendStringField(out, "username", username);
  return out + "}";
}

std::optional<std::string> parseDisconnectCommand(std::string_view payload) {
  if (payload.find('\0') != std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto type = doc.FindMember("type");
  const auto username = doc.FindMember("username");
  if (type == doc.MemberEnd() || !type->value.IsString() || view(type->value) != "disconnect" ||
      username == doc.MemberEnd() || !username->value.IsString() ||
      username->value.GetStringLength() == 0)
    return std::nullopt;
  return std::string(view(username->value));
}

}  // namespace chat::common
