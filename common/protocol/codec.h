#pragma once
// Encoding and decoding of chat frames (docs/protocol.md sections 2 and 3).
//
// A stored message frame is built in two halves: the gateway that accepts a
// message serializes the user-supplied part once (`encodeMessageBody`), and the
// store script in Redis prepends the fields it assigns (room, epoch, id, ts).
// Those exact bytes are kept in history, published, and written to every
// client; receivers read the header fields back with `parseMessageHeader`
// without a full JSON parse. Pure functions, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/refusal.h"

namespace chat::common {

// What a plain client asked to send, validated and normalized.
struct PlainSend {
  std::string username;  // trimmed; "anonymous" when it was empty
  std::string text;      // as sent
};

struct PlainDecodeResult {
  std::optional<PlainSend> send;   // set when the frame is to be stored
  std::optional<Refusal> refusal;  // set otherwise (kEmptyText: ignore quietly)
  std::string reason;              // short human reason for the close frame
};

inline constexpr std::string_view kAnonymous = "anonymous";

// Decodes `{"username":..,"text":..}` from a plain client. Unknown fields are
// ignored.
PlainDecodeResult decodePlainFrame(std::string_view json, std::size_t maxTextCodePoints);

// `"username":"..","text":".."}`: the tail of a stored frame, JSON-escaped.
std::string encodeMessageBody(std::string_view username, std::string_view text);

// The fields the store script puts in front of the body.
struct MessageHeader {
  std::string_view room;
  std::string_view epoch;
  std::uint64_t id = 0;
  std::int64_t ts = 0;
  bool deleted = false;  // a tombstone (docs/protocol.md section 10): no username, no text
};

// The full frame as the store script builds it (kept here so that tests and
// the script agree on one layout).
std::string composeStoredFrame(std::string_view room, std::string_view epoch, std::uint64_t id,
                               std::int64_t ts, std::string_view body);

// Reads the header of a message frame built by the store script. Returns
// nullopt for anything else (presence events, foreign publishers); views point
// into `frame`.
std::optional<MessageHeader> parseMessageHeader(std::string_view frame);

// The tombstone the delete script leaves in history in place of a message:
// the header's fields, then `"deleted":true}`.
std::string composeTombstone(const MessageHeader& header);

// `{"type":"delete","room":..,"epoch":..,"id":..}`, as the delete script
// publishes it to tell v1 clients that a message was deleted.
struct DeleteEvent {
  std::string_view room;
  std::string_view epoch;
  std::uint64_t id = 0;
};
std::string composeDeleteEvent(std::string_view room, std::string_view epoch, std::uint64_t id);
// Reads back a delete event; nullopt for anything else. Views point into `frame`.
std::optional<DeleteEvent> parseDeleteEvent(std::string_view frame);

// Appends `s` to `out` as a JSON string literal (quotes included).
void appendJsonString(std::string& out, std::string_view s);

}  // namespace chat::common
