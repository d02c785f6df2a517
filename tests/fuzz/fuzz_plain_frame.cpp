// decodePlainFrame (docs/protocol.md section 2) on arbitrary bytes: what a plain
// client may send. Beyond memory safety it checks that a frame is either
// accepted or refused with a reason that fits a close frame, that what is
// accepted obeys section 3, and that the stored frame built from it is one
// line of JSON that reads back to the same username and text.

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "protocol/codec.h"
#include "protocol/validation.h"
#include "util/utf8.h"

namespace {

using namespace chat::common;

void check(std::string_view input, std::size_t maxText) {
  const PlainDecodeResult result = decodePlainFrame(input, maxText);
  FUZZ_CHECK(result.send.has_value() != result.refusal.has_value());
  if (result.refusal) {
    FUZZ_CHECK(!result.reason.empty());
    FUZZ_CHECK(result.reason.size() <= 123);  // a close frame's reason
    return;
  }
  const PlainSend& send = *result.send;
  FUZZ_CHECK(isValidUtf8(input));
  FUZZ_CHECK(!checkText(send.text, maxText));
  FUZZ_CHECK(send.username == kAnonymous || !checkUsername(send.username).refusal);
  FUZZ_CHECK(checkUsername(send.username).username == send.username);  // already trimmed

  const std::string body = encodeMessageBody(send.username, send.text);
  const std::string frame = composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, body);
  FUZZ_CHECK(frame.find('\n') == std::string::npos);  // v1 batches split on '\n'
  const auto header = parseMessageHeader(frame);
  FUZZ_CHECK(header && header->room == "lobby" && header->epoch == "k3f9a1" && header->id == 42 &&
             header->ts == 1764028800123);

  rapidjson::Document doc;
  doc.Parse(frame.data(), frame.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
  const auto text = doc.FindMember("text");
  const auto username = doc.FindMember("username");
  FUZZ_CHECK(text != doc.MemberEnd() && text->value.IsString());
  FUZZ_CHECK(username != doc.MemberEnd() && username->value.IsString());
  FUZZ_CHECK(std::string_view(text->value.GetString(), text->value.GetStringLength()) == send.text);
  FUZZ_CHECK(std::string_view(username->value.GetString(), username->value.GetStringLength()) ==
             send.username);

  // What was stored decodes again to the same message.
  const PlainDecodeResult again = decodePlainFrame("{" + body, maxText);
  FUZZ_CHECK(again.send && again.send->text == send.text && again.send->username == send.username);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = chat::fuzz::asView(data, size);
  check(input, kDefaultMaxTextCodePoints);
  check(input, 3);  // a small limit, so that "too long" is reached often
  return 0;
}
