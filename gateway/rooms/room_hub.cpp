#include "rooms/room_hub.h"

#include "log/log.h"
#include "protocol/codec.h"

namespace chat::gateway {
RoomHub::RoomHub(uv_loop_t* loop, Bus& bus, HistorySource& history, std::size_t historyOnJoin,
                 HubTiming timing)
    : bus_(bus),
      history_(history),
      historyOnJoin_(historyOnJoin),
      timing_(timing),
      sweepTimer_(loop),
      retryTimer_(loop) {
  sweepTimer_.every(timing_.sweepPeriod, [this] { sweepEmptyRooms(); });
}

RoomHub::~RoomHub() {
  for (auto& [name, room] : rooms_) {
    for (Membership* m : room->live)
      delete m;
    for (Membership* m : room->syncing)
      delete m;
  }
}

void RoomHub::stop() {
  sweepTimer_.stop();
  retryTimer_.stop();
}

Room* RoomHub::find(std::string_view room) {
  const auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : it->second.get();
}

Membership* RoomHub::join(RoomMember& member, std::string_view roomName) {
  Room* room = find(roomName);
  if (room == nullptr) {
    auto created = std::make_unique<Room>();
    created->name = roomName;
    room = created.get();
    rooms_.emplace(created->name, std::move(created));
  }
  auto* m = new Membership{&member, room};
  m->index = static_cast<std::uint32_t>(room->syncing.size());
  room->syncing.push_back(m);
  subscribeIfNeeded(*room);
  if (room->subscription == Room::Subscription::kSubscribed && !room->readInFlight)
    startHistoryRead(*room);
  return m;
}

void RoomHub::removeAt(std::vector<Membership*>& list, std::uint32_t index) {
  // Swap-remove keeps leave O(1); the moved member learns its new index.
  list[index] = list.back();
  list[index]->index = index;
  list.pop_back();
}

void RoomHub::leave(Membership* m) {
  Room* room = m->room;
  removeAt(m->live ? room->live : room->syncing, m->index);
  delete m;
  if (room->members() == 0) room->emptySince = std::chrono::steady_clock::now();
}

void RoomHub::subscribeIfNeeded(Room& room) {
  if (room.subscription != Room::Subscription::kNone) return;
  // While an UNSUBSCRIBE is pending, onRoomUnsubscribed subscribes again:
  // hiredis 0.14 would drop a new channel callback on the old confirmation.
  if (bus_.subscribe(room.name)) room.subscription = Room::Subscription::kSubscribing;
}

void RoomHub::startHistoryRead(Room& room) {
  room.readInFlight = true;
  room.readBuffer.clear();
  ++stats_.historyReads;
  const bool sent = history_.readRecent(
      room.name, historyOnJoin_, [this, name = room.name](std::optional<RecentHistory> history) {
        finishHistoryRead(name, std::move(history));
      });
  if (!sent) {
    room.readInFlight = false;
    retryTimer_.once(timing_.readRetry, [this] { retryPendingReads(); });
  }
}

void RoomHub::finishHistoryRead(const std::string& roomName, std::optional<RecentHistory> history) {
  Room* room = find(roomName);
  if (room == nullptr) return;
  room->readInFlight = false;
  if (!history) {
    retryTimer_.once(timing_.readRetry, [this] { retryPendingReads(); });
    return;
  }
  if (!room->epoch.empty() && room->epoch != history->epoch) {
    // Ids restarted under a new epoch: what members saw says nothing any more.
    for (Membership* m : room->live)
      m->lastSentId = 0;
    for (Membership* m : room->syncing)
      m->lastSentId = 0;
  }
  room->epoch = history->epoch;

  std::vector<std::pair<std::uint64_t, FramePtr>> frames;
  frames.reserve(history->frames.size() + room->readBuffer.size());
  for (const auto& bytes : history->frames) {
    const auto header = common::parseMessageHeader(bytes);
    if (!header) {
      ++stats_.malformedFrames;
      continue;
    }
    frames.emplace_back(header->id, SharedFrame::make(bytes));
  }
  for (auto& buffered : room->readBuffer)
    frames.push_back(std::move(buffered));
  room->readBuffer.clear();

  // Every waiting member gets what it has not seen, then goes live.
  auto syncing = std::move(room->syncing);
  room->syncing.clear();
  for (Membership* m : syncing) {
    for (const auto& [id, frame] : frames) {
      if (id <= m->lastSentId) continue;
      m->lastSentId = id;
      m->member->deliver(frame);
      ++stats_.deliveries;
    }
    m->live = true;
    m->index = static_cast<std::uint32_t>(room->live.size());
    room->live.push_back(m);
  }
  for (Membership* m : syncing)
    m->member->onJoined(room->name);
}

void RoomHub::retryPendingReads() {
  for (auto& [name, room] : rooms_) {
    if (!room->syncing.empty() && !room->readInFlight &&
        room->subscription == Room::Subscription::kSubscribed)
      startHistoryRead(*room);
  }
}

void RoomHub::resync(Room& room) {
  // Members keep lastSentId, so the history read fills only what they missed.
  for (Membership* m : room.live) {
    m->live = false;
    m->index = static_cast<std::uint32_t>(room.syncing.size());
    room.syncing.push_back(m);
  }
  room.live.clear();
}

void RoomHub::deliverLive(Room& room, const FramePtr& frame, std::uint64_t id) {
  for (Membership* m : room.live) {
    if (id <= m->lastSentId) continue;  // history already gave it
    m->lastSentId = id;
    m->member->deliver(frame);
    ++stats_.deliveries;
  }
}

void RoomHub::onRoomFrame(std::string_view roomName, std::string_view bytes) {
  ++stats_.framesReceived;
  Room* room = find(roomName);
  if (room == nullptr || room->subscription != Room::Subscription::kSubscribed) return;
  const auto header = common::parseMessageHeader(bytes);
  if (!header || header->room != roomName) {
    ++stats_.malformedFrames;
    return;
  }
  if (!room->epoch.empty() && header->epoch != room->epoch) {
    for (Membership* m : room->live)
      m->lastSentId = 0;
  }
  room->epoch = header->epoch;
  auto frame = SharedFrame::make(bytes);
  if (room->readInFlight) room->readBuffer.emplace_back(header->id, frame);
  deliverLive(*room, frame, header->id);
}

void RoomHub::onRoomSubscribed(std::string_view roomName) {
  Room* room = find(roomName);
  if (room == nullptr || room->subscription != Room::Subscription::kSubscribing) return;
  room->subscription = Room::Subscription::kSubscribed;
  if (!room->syncing.empty() && !room->readInFlight) startHistoryRead(*room);
}

void RoomHub::onRoomUnsubscribed(std::string_view roomName) {
  Room* room = find(roomName);
  if (room == nullptr || room->subscription != Room::Subscription::kUnsubscribing) return;
  room->subscription = Room::Subscription::kNone;
  if (room->members() > 0) {
    subscribeIfNeeded(*room);
  } else if (!room->readInFlight) {
    rooms_.erase(rooms_.find(roomName));
  }
}

void RoomHub::onBusDown() {
  // Redis dropped every subscription with the link; members stay and catch up
  // from history once the bus is back.
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room& room = *it->second;
    room.subscription = Room::Subscription::kNone;
    if (room.members() == 0 && !room.readInFlight) {
      it = rooms_.erase(it);
    } else {
      ++it;
    }
  }
}

void RoomHub::onBusUp() {
  for (auto& [name, room] : rooms_) {
    if (room->members() == 0) continue;
    resync(*room);
    subscribeIfNeeded(*room);
  }
}

void RoomHub::sweepEmptyRooms() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room& room = *it->second;
    const bool idle = room.members() == 0 && !room.readInFlight &&
                      now - room.emptySince >= timing_.unsubscribeGrace;
    if (idle && room.subscription == Room::Subscription::kSubscribed) {
      room.subscription = bus_.unsubscribe(room.name) ? Room::Subscription::kUnsubscribing
                                                      : Room::Subscription::kNone;
    }
    if (idle && room.subscription == Room::Subscription::kNone) {
      it = rooms_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace chat::gateway
