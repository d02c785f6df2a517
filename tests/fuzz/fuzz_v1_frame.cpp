// decodeV1Frame (docs/protocol.md section 4) on arbitrary bytes: what a chat.v1
// client may send. Beyond memory safety it checks the result's shape (ignore,
// or exactly one of frame and refusal), that every accepted field obeys its
// rule, and that the server frames built from client values (error, ack,
// joined, presence) are single-line JSON objects, as batching needs.

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "protocol/codec.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "util/utf8.h"

namespace {

using namespace chat::common;

// One line of JSON: an object whose "type" is `type`.
void checkServerFrame(const std::string& frame, std::string_view type) {
  FUZZ_CHECK(frame.find('\n') == std::string::npos);
  rapidjson::Document doc;
  doc.Parse(frame.data(), frame.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
  const auto it = doc.FindMember("type");
  FUZZ_CHECK(it != doc.MemberEnd() && it->value.IsString());
  FUZZ_CHECK(std::string_view(it->value.GetString(), it->value.GetStringLength()) == type);
}

void check(std::string_view input, std::size_t maxText) {
  const V1DecodeResult result = decodeV1Frame(input, maxText);
  if (result.ignore) {
    FUZZ_CHECK(!result.frame && !result.refusal);
    FUZZ_CHECK(input.find_first_not_of(" \t\r\n") == std::string_view::npos);
    return;
  }
  FUZZ_CHECK(result.frame.has_value() != result.refusal.has_value());
  if (result.refusal) {
    const V1Refusal& refusal = *result.refusal;
    FUZZ_CHECK(refusal.code == V1ErrorCode::kInvalid);
    FUZZ_CHECK(!refusal.message.empty());
    // The ref is echoed whenever it is a valid UTF-8 string, even one that
    // breaks the ref rule (so the client can match the error to its frame).
    FUZZ_CHECK(isValidUtf8(refusal.ref));
    if (refusal.reason == Refusal::kInvalidUtf8) FUZZ_CHECK(!isValidUtf8(input));
    checkServerFrame(encodeError(refusal.ref, refusal.code, refusal.message), "error");
    return;
  }
  const V1ClientFrame& frame = *result.frame;
  FUZZ_CHECK(isValidUtf8(input));
  FUZZ_CHECK(frame.room.empty() || isValidRoomName(frame.room));
  FUZZ_CHECK(frame.ref.size() <= kMaxRefBytes && isValidUtf8(frame.ref));
  FUZZ_CHECK(frame.epoch.size() <= kMaxEpochLength);
  FUZZ_CHECK(frame.limit >= 1 && frame.limit <= kMaxHistoryLimit);
  if (frame.type == V1FrameType::kMessage) FUZZ_CHECK(!checkText(frame.text, maxText));
  if (frame.since) FUZZ_CHECK(*frame.since <= kMaxJsonInteger);
  if (frame.before) FUZZ_CHECK(*frame.before >= 1 && *frame.before <= kMaxJsonInteger);

  const std::string room = frame.room.empty() ? std::string(kDefaultRoom) : frame.room;
  checkServerFrame(encodeAck(frame.ref, 1, 2), "ack");
  checkServerFrame(encodeError(frame.ref, V1ErrorCode::kRateLimited, "slow down"), "error");
  checkServerFrame(encodeJoined(room, frame.epoch, frame.since.value_or(0), true, {frame.ref}, 1),
                   "joined");
  if (!frame.ref.empty()) {
    // A ref is free text like a username: presence frames carry such strings.
    const std::string presence = encodePresence(room, "join", frame.ref);
    checkServerFrame(presence, "presence");
    const auto event = parsePresenceEvent(presence);
    FUZZ_CHECK(event && event->room == room && event->event == "join" &&
               event->username == frame.ref);
  }
  if (frame.type == V1FrameType::kMessage) {
    const std::string stored =
        composeStoredFrame(room, "e0", 7, 8, encodeMessageBody("someone", frame.text));
    checkServerFrame(stored, "message");
    checkServerFrame(encodeHistory(room, {stored, stored}), "history");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = chat::fuzz::asView(data, size);
  check(input, kDefaultMaxTextCodePoints);
  check(input, 3);
  return 0;
}
