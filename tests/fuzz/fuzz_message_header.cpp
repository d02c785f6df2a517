// parseMessageHeader on arbitrary bytes: a frame as it comes off the Redis
// bus, which anyone with access to the channel can publish to. Checks that
// the views it returns point into the input and hold a valid room, and that
// any body behind a header composed by composeStoredFrame reads back to the
// same header fields. parseDeleteEvent gets the same bytes (delete events
// come off the same channel), and a tombstone of any header reads back as one.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "protocol/codec.h"
#include "protocol/validation.h"

namespace {

using namespace chat::common;

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = chat::fuzz::asView(data, size);
  if (const auto header = parseMessageHeader(input)) {
    FUZZ_CHECK(inside(header->room, input) && inside(header->epoch, input));
    FUZZ_CHECK(isValidRoomName(header->room));
    FUZZ_CHECK(header->epoch.find('"') == std::string_view::npos);
    FUZZ_CHECK(!input.empty() && input.back() == '}');
    const std::string tombstoneFrame = composeTombstone(*header);
    const auto tombstone = parseMessageHeader(tombstoneFrame);
    FUZZ_CHECK(tombstone && tombstone->deleted && tombstone->id == header->id &&
               tombstone->ts == header->ts && tombstone->room == header->room);
  }
  if (const auto deleted = parseDeleteEvent(input)) {
    FUZZ_CHECK(inside(deleted->room, input) && inside(deleted->epoch, input));
    FUZZ_CHECK(isValidRoomName(deleted->room));
    const std::string again = composeDeleteEvent(deleted->room, deleted->epoch, deleted->id);
    const auto reread = parseDeleteEvent(again);
    FUZZ_CHECK(reread && reread->room == deleted->room && reread->epoch == deleted->epoch &&
               reread->id == deleted->id);
  }

  // The input as the body of a stored frame: the header is read whatever
  // follows it, as long as the frame ends with '}'.
  // Numbers from the input too, over the full ranges (negative ts included).
  std::uint64_t id = size;
  std::uint64_t tsBits = 0;
  for (std::size_t i = 0; i < size && i < 8; ++i) {
    id = id * 131 + data[i];
    tsBits = tsBits * 257 + data[size - 1 - i];
  }
  const auto ts = static_cast<std::int64_t>(tsBits);  // modular since C++20
  const std::string body = std::string(input) + "}";
  const std::string frame = composeStoredFrame("room_1.x-Y", "k3f9a1", id, ts, body);
  const auto header = parseMessageHeader(frame);
  FUZZ_CHECK(header && header->room == "room_1.x-Y" && header->epoch == "k3f9a1" &&
             header->id == id && header->ts == ts);
  return 0;
}
