#pragma once
// What the room hub needs from a client connection: a place to put frames and
// word of how its join went. Implemented by Connection; fakes in unit tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws/shared_frame.h"

namespace chat::gateway {

struct JoinOutcome {
  std::string_view room;
  std::string_view epoch;
  std::uint64_t lastId = 0;
  std::optional<bool> recovered;                      // set when the join asked to resume (`since`)
  const std::vector<std::string>* present = nullptr;  // users in the room (maybe not all)
  std::uint64_t online = 0;                           // how many there are
  std::size_t listMax = 100;                          // users `joined` may list
};

class RoomMember {
 public:
  virtual ~RoomMember() = default;
  // Queues a message frame. Must not re-enter the hub.
  virtual void deliver(const FramePtr& frame) = 0;
  // Queues a room event (presence); plain clients take only messages.
  virtual void deliverEvent(const FramePtr& frame) { (void)frame; }
  // The join's history replay is queued; live messages follow. Also sent
  // again when the room's epoch changed under the member.
  virtual void onJoined(const JoinOutcome& outcome) { (void)outcome; }
  // Whether it can take another history frame now. A replay pauses when it
  // cannot (a client far behind gets history at the pace its socket takes,
  // not all at once into a queue that would cut it off), and resumes when the
  // member calls RoomHub::resumeReplay.
  virtual bool hasRoomForHistory() const { return true; }
};

}  // namespace chat::gateway
