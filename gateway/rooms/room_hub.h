#pragma once
// Rooms with local members, and the one delivery path for every message.
//
// Joining is "subscribe first, read history, merge by id": the first local
// member of a room makes the hub SUBSCRIBE; once Redis confirms, one history
// read serves every member waiting to sync (joins during a read share it), and
// frames that arrive while the read is in flight are buffered, so joiners get
// history, then the buffer, then live frames: each id once and in order.
//
// The same read repairs gaps: when a live frame skips ids (a pub/sub message
// lost, the subscriber reconnected), the room's members go back to syncing and
// the read fills exactly what each one missed, from its last delivered id.
//
// The last member leaving schedules an UNSUBSCRIBE after a short grace period,
// so a reconnecting user does not make the subscription flap.
//
// Owned by the Server; loop thread only; no locks.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bus/bus.h"
#include "loop/uv_handles.h"
#include "metrics/counter.h"
#include "protocol/codec.h"
#include "rooms/room_member.h"
#include "store/message_store.h"
#include "util/string_map.h"

namespace chat::gateway {

struct Room;

// What a member asks for when it joins.
struct JoinRequest {
  std::optional<std::uint64_t> since;  // resume after this id
  std::string epoch;                   // ... in this epoch (empty: any)
};

// The first join a connection asks for in its URL.
struct UrlJoin {
  std::string room;
  JoinRequest request;
};

// One member's place in one room. Returned by join, given back to leave.
struct Membership {
  RoomMember* member;
  Room* room;
  JoinRequest request;
  std::uint32_t index = 0;  // position in the room's live or syncing list
  bool live = false;
  bool announced = false;           // onJoined has been called
  std::string epoch{};              // the epoch it was announced in; its ids count there
  bool epochChanged = false;        // the room's epoch changed under it
  std::uint64_t lastSentId = 0;     // drops frames it already has
  bool positioned = false;          // its resume point is set (a replay has begun)
  bool paused = false;              // its replay waits for room in the member's queue
  std::optional<bool> recovered{};  // for its `joined`, decided on the replay's first page
};

struct Room {
  enum class Subscription { kNone, kSubscribing, kSubscribed, kUnsubscribing };

  std::string name;
  Subscription subscription = Subscription::kNone;
  std::vector<Membership*> live;
  std::vector<Membership*> syncing;
  bool readInFlight = false;
  bool readStale = false;  // the subscription was lost during the read: read again
  // Live frames that arrived while the read was in flight, with their ids.
  std::vector<std::pair<std::uint64_t, FramePtr>> readBuffer;
  // Presence events that arrived while the read was in flight: applied again
  // on top of the read's snapshot of who is present (which may predate them).
  std::vector<std::pair<bool, std::string>> readPresence;  // (joined, username)
  // Ids deleted while the read was in flight: tombstones in its snapshot.
  std::vector<std::pair<std::string, std::uint64_t>> readDeletes;  // (epoch, id)
  // A count Redis published while the read was in flight (the room crossed
  // PRESENCE_EVENTS_MAX): it postdates the read's snapshot.
  std::optional<std::uint64_t> readCount;
  std::string epoch;
  std::uint64_t lastId = 0;  // highest id seen in this epoch
  // Who is present: the whole list while the room has at most
  // PRESENCE_EVENTS_MAX users (events keep it), else the last read's first
  // ones; `online` counts them all (events, or counts above the limit).
  std::vector<std::string> present;
  std::uint64_t online = 0;
  bool crowded = false;  // above PRESENCE_EVENTS_MAX: counts, not events
  bool countInFlight = false;
  std::chrono::steady_clock::time_point emptySince;

  std::size_t members() const { return live.size() + syncing.size(); }
};

// Shared counters (metrics/counter.h): the hub may count into a WorkerBoard slot.
struct HubStats {
  Counter framesReceived;  // room frames from the bus
  Counter deliveries;      // message frames queued to members
  Counter historyReads;
  Counter gapRepairs;       // reads started because ids skipped
  Counter malformedFrames;  // bus frames that are neither message nor event
  Gauge rooms;              // rooms with members (or in their unsubscribe grace)
};

struct HubTiming {
  // An empty room keeps its subscription this long, so a member that leaves
  // and comes straight back (a page reload) does not make it flap.
  std::chrono::milliseconds unsubscribeGrace{2000};
  std::chrono::milliseconds sweepPeriod{1000};
  std::chrono::milliseconds readRetry{500};
};

class RoomHub final : public BusListener {
 public:
  // `stats` outlives the hub (the worker's board slot, or a test's own).
  RoomHub(uv_loop_t* loop, Bus& bus, HistorySource& history, std::size_t historyOnJoin,
          HubStats& stats, HubTiming timing = {}, PresenceLimits limits = {});
  ~RoomHub() override;

  // `room` must be a valid room name. The member gets history, onJoined, then
  // live frames.
  Membership* join(RoomMember& member, std::string_view room, JoinRequest request = {});
  void leave(Membership* membership);
  // The member has room again: a paused replay goes on (another read).
  void resumeReplay(Membership* membership);

  std::size_t roomCount() const { return rooms_.size(); }
  const HubStats& stats() const { return stats_; }
  // Stops the hub's timers so the loop can end; members may still leave.
  void stop();

  // BusListener
  void onBusUp() override;
  void onBusDown() override;
  void onRoomSubscribed(std::string_view room) override;
  void onRoomUnsubscribed(std::string_view room) override;
  void onRoomLost(std::string_view room) override;
  void onRoomFrame(std::string_view room, std::string_view frame) override;

 private:
  using IdFrames = std::vector<std::pair<std::uint64_t, FramePtr>>;

  Room* find(std::string_view room);
  void subscribeIfNeeded(Room& room);
  void startHistoryRead(Room& room);
  void finishHistoryRead(const std::string& roomName, std::optional<HistorySlice> slice);
  // Decides where `m` resumes from; false when this read does not reach back
  // far enough for it (it waits for the next read).
  bool positionMember(Membership& m, const HistorySlice& slice, std::uint64_t firstHeld,
                      std::uint64_t firstRead, std::optional<bool>& recovered);
  void deliverLive(Room& room, const FramePtr& frame, std::uint64_t id);
  void deliverEvent(Room& room, std::string_view frame);
  void deliverDelete(Room& room, const common::DeleteEvent& event, std::string_view frame);
  static void applyPresence(Room& room, bool joined, const std::string& username);
  // A crowded room's count, as Redis has it now, to its members when it changed.
  void setOnline(Room& room, std::uint64_t online);
  void pollCrowdedRooms();
  void resync(Room& room);
  void sweepEmptyRooms();
  void retryPendingReads();
  static void removeAt(std::vector<Membership*>& list, std::uint32_t index);

  HubStats& stats_;
  Bus& bus_;
  HistorySource& history_;
  std::size_t historyOnJoin_;
  HubTiming timing_;
  PresenceLimits limits_;
  common::StringMap<std::unique_ptr<Room>> rooms_;
  Timer sweepTimer_;
  Timer retryTimer_;
};

}  // namespace chat::gateway
