#include "rooms/room_hub.h"

#include <algorithm>
#include <utility>

#include "log/log.h"
#include "protocol/codec.h"
#include "protocol/v1_codec.h"

namespace chat::gateway {

RoomHub::RoomHub(uv_loop_t* loop, Bus& bus, HistorySource& history, std::size_t historyOnJoin,
                 HubStats& stats, HubTiming timing, PresenceLimits limits)
    : stats_(stats),
      bus_(bus),
      history_(history),
      historyOnJoin_(historyOnJoin),
      timing_(timing),
      limits_(limits),
      sweepTimer_(loop),
      retryTimer_(loop) {
  sweepTimer_.every(timing_.sweepPeriod, [this] {
    sweepEmptyRooms();
    pollCrowdedRooms();
  });
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

Membership* RoomHub::join(RoomMember& member, std::string_view roomName, JoinRequest request) {
  Room* room = find(roomName);
  if (room == nullptr) {
    auto created = std::make_unique<Room>();
    created->name = roomName;
    room = created.get();
    rooms_.emplace(created->name, std::move(created));
    stats_.rooms.set(static_cast<std::int64_t>(rooms_.size()));
  }
  auto* m = new Membership{&member, room, std::move(request)};
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
  // One read for every waiting member: it reaches back to the oldest id any
  // of them still needs.
  std::int64_t oldest = -1;
  bool anyone = false;
  for (const Membership* m : room.syncing) {
    if (m->paused) continue;
    anyone = true;
    std::optional<std::uint64_t> from;
    if (m->epochChanged) continue;
    if (m->announced || m->positioned)
      from = m->lastSentId;
    else if (m->request.since)
      from = m->request.since;
    if (from && (oldest < 0 || static_cast<std::int64_t>(*from) < oldest))
      oldest = static_cast<std::int64_t>(*from);
  }
  if (!anyone) return;  // every waiting replay is paused
  room.readInFlight = true;
  room.readBuffer.clear();
  room.readPresence.clear();
  ++stats_.historyReads;
  Log::debug("history_read", {{"room", room.name},
                              {"members", std::to_string(room.syncing.size())},
                              {"since", std::to_string(oldest)}});
  const HistoryQuery query{HistoryQuery::Mode::kJoin, historyOnJoin_, oldest};
  const bool sent =
      history_.read(room.name, query, [this, name = room.name](std::optional<HistorySlice> slice) {
        finishHistoryRead(name, std::move(slice));
      });
  if (!sent) {
    room.readInFlight = false;
    retryTimer_.once(timing_.readRetry, [this] { retryPendingReads(); });
  }
}

bool RoomHub::positionMember(Membership& m, const HistorySlice& slice, std::uint64_t firstHeld,
                             std::uint64_t firstRead, std::optional<bool>& recovered) {
  const std::uint64_t last = slice.lastId;
  const std::uint64_t tail = last > historyOnJoin_ ? last - historyOnJoin_ : 0;
  if (m.epochChanged) {
    m.lastSentId = tail;
    recovered = false;
    return true;
  }
  if (!m.announced && !m.positioned) {
    if (m.request.since) {
      const std::uint64_t since = *m.request.since;
      const bool sameEpoch = m.request.epoch.empty() || m.request.epoch == slice.epoch;
      if (sameEpoch && since <= last && since + 1 >= firstHeld) {
        if (since < last && since + 1 < firstRead) return false;  // joined after this read began
        m.lastSentId = since;
        recovered = true;
        return true;
      }
      recovered = false;
    }
    m.lastSentId = tail;
    return true;
  }
  // A resync: fill from the member's own position.
  if (m.lastSentId < last && m.lastSentId + 1 < firstRead) {
    if (m.lastSentId + 1 >= firstHeld) return false;
    // Trimmed from history already: nothing can bring those back.
    m.lastSentId = firstRead - 1;
  }
  return true;
}

void RoomHub::finishHistoryRead(const std::string& roomName, std::optional<HistorySlice> slice) {
  Room* room = find(roomName);
  if (room == nullptr) return;
  room->readInFlight = false;
  Log::debug("history_read_done",
             {{"room", roomName}, {"ok", slice ? "1" : "0"}, {"epoch", slice ? slice->epoch : ""}});
  if (!slice) {
    room->readBuffer.clear();
    room->readPresence.clear();
    room->readDeletes.clear();
    room->readCount.reset();
    retryTimer_.once(timing_.readRetry, [this] { retryPendingReads(); });
    return;
  }
  if (!room->epoch.empty() && room->epoch != slice->epoch) {
    // Ids restarted under a new epoch: what members saw says nothing any more.
    for (Membership* m : room->syncing) {
      if (m->announced) m->epochChanged = true;
    }
    room->lastId = 0;
  }
  room->epoch = slice->epoch;
  room->lastId = std::max(room->lastId, slice->lastId);
  room->present = slice->present;
  room->online = std::max<std::uint64_t>(slice->online, room->present.size());
  room->crowded = room->online > limits_.eventsMax;
  // In pub/sub order: joins and leaves the snapshot already holds change nothing.
  for (const auto& [joined, username] : std::exchange(room->readPresence, {}))
    applyPresence(*room, joined, username);
  if (const auto count = std::exchange(room->readCount, std::nullopt)) setOnline(*room, *count);

  IdFrames history;
  history.reserve(slice->frames.size());
  for (const auto& bytes : slice->frames) {
    const auto header = common::parseMessageHeader(bytes);
    if (!header) {
      ++stats_.malformedFrames;
      continue;
    }
    // A delete that came while the read was in flight may postdate its snapshot.
    const bool deletedMeanwhile =
        !header->deleted &&
        std::find(room->readDeletes.begin(), room->readDeletes.end(),
                  std::pair{std::string(header->epoch), header->id}) != room->readDeletes.end();
    history.emplace_back(
        header->id, deletedMeanwhile
                        ? SharedFrame::make(common::composeTombstone(*header), header->ts, true)
                        : SharedFrame::make(bytes, header->ts, header->deleted));
  }
  room->readDeletes.clear();
  // Frames newer than the read, up to the first gap; a gap means another read.
  IdFrames newer;
  bool gap = false;
  for (auto& [id, frame] : room->readBuffer) {
    if (id <= slice->lastId) continue;
    if (id != slice->lastId + newer.size() + 1) {
      gap = true;
      break;
    }
    newer.emplace_back(id, std::move(frame));
  }
  room->readBuffer.clear();
  if (std::exchange(room->readStale, false)) gap = true;
  if (!newer.empty()) room->lastId = std::max(room->lastId, newer.back().first);

  const std::uint64_t firstHeld = slice->lastId - slice->length + 1;
  const std::uint64_t firstRead = history.empty() ? slice->lastId + 1 : history.front().first;
  auto waiting = std::move(room->syncing);
  room->syncing.clear();
  auto keepSyncing = [room](Membership* m) {
    m->index = static_cast<std::uint32_t>(room->syncing.size());
    room->syncing.push_back(m);
  };
  for (Membership* m : waiting) {
    if (m->paused) {
      keepSyncing(m);  // not part of this read
      continue;
    }
    // Whatever happened to the room meanwhile, a member told another epoch
    // starts over in this one.
    if (m->announced && m->epoch != slice->epoch) m->epochChanged = true;
    // A replay's later pages must not start it over in another epoch either.
    if (!m->announced && m->positioned && m->epoch != slice->epoch) {
      m->positioned = false;
      m->recovered.reset();
    }
    std::optional<bool> recovered;
    if (!positionMember(*m, *slice, firstHeld, firstRead, recovered)) {
      keepSyncing(m);
      continue;
    }
    if (!m->announced && !m->positioned) {
      m->positioned = true;
      m->recovered = recovered;
      m->epoch = slice->epoch;
    }
    const JoinOutcome outcome{
        room->name,     room->epoch,  slice->lastId,  m->announced ? recovered : m->recovered,
        &room->present, room->online, limits_.listMax};
    if (m->epochChanged) {
      // The fresh `joined` goes before the new epoch's messages.
      m->epochChanged = false;
      m->announced = true;
      m->epoch = slice->epoch;
      m->member->onJoined(outcome);
    }
    bool full = false;
    for (const auto& [id, frame] : history) {
      if (id <= m->lastSentId) continue;
      if (!m->member->hasRoomForHistory()) {
        full = true;
        break;
      }
      m->lastSentId = id;
      m->member->deliver(frame);
      ++stats_.deliveries;
    }
    if (full) {
      // The rest when its queue has drained: another read from lastSentId.
      m->paused = true;
      keepSyncing(m);
      continue;
    }
    if (!m->announced) {
      m->announced = true;
      m->epoch = slice->epoch;
      m->member->onJoined(outcome);
    }
    if (gap) {
      keepSyncing(m);
      continue;
    }
    for (const auto& [id, frame] : newer) {
      if (id <= m->lastSentId) continue;
      m->lastSentId = id;
      m->member->deliver(frame);
      ++stats_.deliveries;
    }
    m->live = true;
    m->index = static_cast<std::uint32_t>(room->live.size());
    room->live.push_back(m);
  }
  if (!room->syncing.empty() && room->subscription == Room::Subscription::kSubscribed)
    startHistoryRead(*room);
}

void RoomHub::resumeReplay(Membership* m) {
  if (!m->paused) return;
  m->paused = false;
  Room& room = *m->room;
  if (room.subscription == Room::Subscription::kSubscribed && !room.readInFlight)
    startHistoryRead(room);
}

void RoomHub::retryPendingReads() {
  for (auto& [name, room] : rooms_) {
    if (!room->syncing.empty() && !room->readInFlight &&
        room->subscription == Room::Subscription::kSubscribed)
      startHistoryRead(*room);
  }
}

void RoomHub::resync(Room& room) {
  // Members keep lastSentId, so the read fills only what each one missed.
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

void RoomHub::applyPresence(Room& room, bool joined, const std::string& username) {
  // Events come only while the room is small: its list is whole, so whether
  // a user is on it says whether they were counted.
  auto& present = room.present;
  const auto it = std::find(present.begin(), present.end(), username);
  if (joined && it == present.end()) {
    present.push_back(username);
    ++room.online;
  }
  if (!joined && it != present.end()) {
    present.erase(it);
    if (room.online > 0) --room.online;
  }
}

void RoomHub::setOnline(Room& room, std::uint64_t online) {
  room.crowded = online > limits_.eventsMax;
  if (online == room.online) return;
  room.online = online;
  const auto frame = SharedFrame::make(common::encodePresenceCount(room.name, online));
  for (Membership* m : room.live)
    m->member->deliverEvent(frame);
}

void RoomHub::pollCrowdedRooms() {
  // Once a second at most, and only when it changed: a big room's members
  // hear its count instead of every join and leave.
  for (auto& [name, room] : rooms_) {
    if (!room->crowded || room->live.empty() || room->countInFlight) continue;
    const bool sent =
        history_.presentCount(name, [this, roomName = name](std::optional<std::uint64_t> count) {
          Room* polled = find(roomName);
          if (polled == nullptr) return;
          polled->countInFlight = false;
          if (count) setOnline(*polled, *count);
        });
    room->countInFlight = sent;
  }
}

void RoomHub::deliverDelete(Room& room, const common::DeleteEvent& event, std::string_view bytes) {
  if (event.room != room.name) {
    ++stats_.malformedFrames;
    return;
  }
  // Members that have the message hear of its deletion; a replay still to
  // come gives the others its tombstone (from Redis, or from the read in
  // flight, whose snapshot may predate the delete).
  if (room.readInFlight) {
    room.readDeletes.emplace_back(std::string(event.epoch), event.id);
    for (auto& [id, frame] : room.readBuffer) {
      const auto header = id == event.id ? common::parseMessageHeader(frame->view()) : std::nullopt;
      if (header && !header->deleted && header->epoch == event.epoch)
        frame = SharedFrame::make(common::composeTombstone(*header), header->ts, true);
    }
  }
  const auto frame = SharedFrame::make(bytes);
  for (auto* list : {&room.live, &room.syncing}) {
    for (Membership* m : *list) {
      if (m->lastSentId >= event.id) m->member->deliverEvent(frame);
    }
  }
}

void RoomHub::deliverEvent(Room& room, std::string_view bytes) {
  auto event = common::parsePresenceEvent(bytes);
  if (!event || event->room != room.name) {
    ++stats_.malformedFrames;
    return;
  }
  if (event->online && event->event.empty()) {
    // The room crossed PRESENCE_EVENTS_MAX (either way): Redis says its count.
    if (room.readInFlight) room.readCount = event->online;
    setOnline(room, *event->online);
    return;
  }
  const bool joined = event->event == "join";
  applyPresence(room, joined, event->username);
  // Redis counted everyone, also those a partial list leaves out (a read in
  // flight gets the event again on top of its snapshot).
  if (event->online) room.online = *event->online;
  if (room.readInFlight) room.readPresence.emplace_back(joined, event->username);
  // Syncing members get the whole list in their `joined`.
  const auto frame = SharedFrame::make(bytes);
  for (Membership* m : room.live)
    m->member->deliverEvent(frame);
}

void RoomHub::onRoomFrame(std::string_view roomName, std::string_view bytes) {
  ++stats_.framesReceived;
  Room* room = find(roomName);
  if (room == nullptr || room->subscription != Room::Subscription::kSubscribed) return;
  const auto header = common::parseMessageHeader(bytes);
  if (!header) {
    if (const auto deleted = common::parseDeleteEvent(bytes)) {
      deliverDelete(*room, *deleted, bytes);
      return;
    }
    deliverEvent(*room, bytes);
    return;
  }
  if (header->room != roomName) {
    ++stats_.malformedFrames;
    return;
  }
  auto frame = SharedFrame::make(bytes, header->ts, header->deleted);
  const bool newEpoch = !room->epoch.empty() && header->epoch != room->epoch;
  const bool skipped = !newEpoch && room->lastId != 0 && header->id > room->lastId + 1;
  if (newEpoch || skipped) {
    // Ids restarted, or some went missing: everyone re-syncs from history.
    if (newEpoch) {
      for (Membership* m : room->live)
        m->epochChanged = true;
      room->epoch = header->epoch;
      room->lastId = 0;
    } else {
      ++stats_.gapRepairs;
    }
    resync(*room);
    if (!room->readInFlight) startHistoryRead(*room);
    room->readBuffer.emplace_back(header->id, std::move(frame));
    return;
  }
  room->epoch = header->epoch;
  room->lastId = std::max(room->lastId, header->id);
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
    stats_.rooms.set(static_cast<std::int64_t>(rooms_.size()));
  }
}

void RoomHub::onRoomLost(std::string_view roomName) {
  Room* room = find(roomName);
  if (room == nullptr || room->subscription != Room::Subscription::kSubscribed) return;
  // Frames published until it is back are missed: members catch up from
  // history once onRoomSubscribed comes.
  room->subscription = Room::Subscription::kSubscribing;
  if (room->readInFlight) room->readStale = true;
  resync(*room);
}

void RoomHub::onBusDown() {
  // Redis dropped every subscription with the link; members stay and catch up
  // from history once the bus is back.
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room& room = *it->second;
    room.subscription = Room::Subscription::kNone;
    if (room.members() == 0 && !room.readInFlight) {
      it = rooms_.erase(it);
      stats_.rooms.set(static_cast<std::int64_t>(rooms_.size()));
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
      stats_.rooms.set(static_cast<std::int64_t>(rooms_.size()));
    } else {
      ++it;
    }
  }
}

}  // namespace chat::gateway
