#pragma once
// What the room hub needs from a client connection: a place to put frames.
// Implemented by ws::Connection; fakes implement it in unit tests.

#include <string_view>

#include "ws/shared_frame.h"

namespace chat::gateway {

class RoomMember {
 public:
  virtual ~RoomMember() = default;
  // Queues a message frame for the client. Must not re-enter the hub.
  virtual void deliver(const FramePtr& frame) = 0;
  // History and live messages now flow; the join is complete.
  virtual void onJoined(std::string_view room) { (void)room; }
};

}  // namespace chat::gateway
