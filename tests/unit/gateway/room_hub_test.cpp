// RoomHub with a fake bus and a fake history source: the join protocol
// (subscribe, read, merge by id), shared reads, resync after a bus outage, and
// the delayed unsubscribe.

#include "rooms/room_hub.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "protocol/codec.h"
#include "protocol/v1_codec.h"

namespace chat::gateway {
namespace {

class FakeBus final : public Bus {
 public:
  bool subscribe(std::string_view room) override {
    if (!up) return false;
    calls.push_back("SUBSCRIBE " + std::string(room));
    return true;
  }
  bool unsubscribe(std::string_view room) override {
    if (!up) return false;
    calls.push_back("UNSUBSCRIBE " + std::string(room));
    return true;
  }
  bool ready() const override { return up; }
  void setControlHandler(std::function<void(std::string_view)>) override {}

  bool up = true;
  std::vector<std::string> calls;
};

class FakeHistory final : public HistorySource {
 public:
  bool read(std::string_view room, const HistoryQuery& query, ReadFn done) override {
    reads.push_back({std::string(room), query, std::move(done)});
    return true;
  }
  bool presentCount(std::string_view room, CountFn done) override {
    counts.push_back({std::string(room), std::move(done)});
    return true;
  }
  struct Read {
    std::string room;
    HistoryQuery query;
    ReadFn done;
  };
  std::deque<Read> reads;
  std::deque<std::pair<std::string, CountFn>> counts;
};

class FakeMember final : public RoomMember {
 public:
  void deliver(const FramePtr& frame) override {
    const auto header = common::parseMessageHeader(frame->view());
    ids.push_back(header ? header->id : 0);
    if (frame->tombstone()) tombstones.push_back(header ? header->id : 0);
  }
  void deliverEvent(const FramePtr& frame) override { events.emplace_back(frame->view()); }
  void onJoined(const JoinOutcome& outcome) override {
    ++joined;
    lastOnline = outcome.online;
    lastRecovered = outcome.recovered;
    lastJoinedId = outcome.lastId;
    if (outcome.present != nullptr) lastPresent = *outcome.present;
  }
  std::vector<std::string> lastPresent;
  std::optional<bool> lastRecovered;
  std::uint64_t lastJoinedId = 0;
  std::uint64_t lastOnline = 0;
  std::vector<std::uint64_t> ids;
  std::vector<std::uint64_t> tombstones;
  std::vector<std::string> events;
  int joined = 0;
};

std::string frame(std::string_view room, std::uint64_t id, std::string_view epoch = "e1") {
  return common::composeStoredFrame(room, epoch, id, 1764028800000 + static_cast<long>(id),
                                    common::encodeMessageBody("alice", "hi"));
}

HistorySlice history(std::string_view room, std::uint64_t first, std::uint64_t last,
                     std::string epoch = "e1") {
  HistorySlice h;
  h.epoch = epoch;
  h.lastId = last;
  h.length = last;  // everything since id 1 is still held
  for (std::uint64_t id = first; id <= last && id != 0; ++id)
    h.frames.push_back(frame(room, id, epoch));
  return h;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = first; id <= last; ++id)
    ids.push_back(id);
  return ids;
}

class RoomHubTest : public ::testing::Test {
 protected:
  RoomHubTest() {
    uv_loop_init(&loop_);
    HubTiming timing;
    timing.unsubscribeGrace = std::chrono::milliseconds(0);
    timing.sweepPeriod = std::chrono::milliseconds(1);
    timing.readRetry = std::chrono::milliseconds(1);
    hub_ = std::make_unique<RoomHub>(&loop_, bus_, history_, 100, hubStats_, timing);
  }
  ~RoomHubTest() override {
    hub_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Runs the loop until `done` holds or two seconds pass.
  bool runUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_ONCE);
    }
    return true;
  }

  void completeRead(HistorySlice h) {
    ASSERT_FALSE(history_.reads.empty());
    auto read = std::move(history_.reads.front());
    history_.reads.pop_front();
    read.done(std::move(h));
  }

  uv_loop_t loop_{};
  FakeBus bus_;
  FakeHistory history_;
  HubStats hubStats_;
  std::unique_ptr<RoomHub> hub_;
};

// A leave published while a joiner's read is in flight must not be undone by
// the read's snapshot of who is present, which Redis may have taken before it.
TEST_F(RoomHubTest, PresenceEventsDuringAReadAreAppliedOnTopOfItsSnapshot) {
  FakeMember bob;
  hub_->join(bob, "r");
  hub_->onRoomSubscribed("r");
  ASSERT_EQ(history_.reads.size(), 1u);
  hub_->onRoomFrame("r", R"({"type":"presence","room":"r","event":"leave","username":"guest-1"})");
  hub_->onRoomFrame("r", R"({"type":"presence","room":"r","event":"join","username":"carol"})");
  HistorySlice h = history("r", 0, 0);
  h.present = {"bob", "guest-1"};  // taken before the leave and the join
  completeRead(std::move(h));
  ASSERT_EQ(bob.joined, 1);
  EXPECT_EQ(bob.lastPresent, (std::vector<std::string>{"bob", "carol"}));
}

// A delete event reaches members that have the message; a read in flight,
// whose snapshot may predate it, hands its joiners the tombstone instead.
TEST_F(RoomHubTest, ADeleteDuringAReadTurnsTheReadsCopyIntoATombstone) {
  FakeMember alice, bob;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 3));
  ASSERT_EQ(alice.ids, range(1, 3));
  hub_->join(bob, "r");
  ASSERT_EQ(history_.reads.size(), 1u);
  hub_->onRoomFrame("r", frame("r", 4));
  const std::string deleteTwo = common::composeDeleteEvent("r", "e1", 2);
  hub_->onRoomFrame("r", deleteTwo);
  hub_->onRoomFrame("r", common::composeDeleteEvent("r", "e1", 4));
  EXPECT_EQ(alice.events,
            (std::vector<std::string>{deleteTwo, common::composeDeleteEvent("r", "e1", 4)}));
  EXPECT_TRUE(bob.events.empty()) << "bob has neither message yet";
  completeRead(history("r", 1, 3));  // taken before both deletes
  EXPECT_EQ(bob.ids, range(1, 4));
  EXPECT_EQ(bob.tombstones, (std::vector<std::uint64_t>{2, 4}));
  // Tombstones in the history itself are marked as such too.
  FakeMember carol;
  hub_->join(carol, "r");
  HistorySlice h = history("r", 1, 4);
  h.frames[0] = common::composeTombstone(*common::parseMessageHeader(h.frames[0]));
  completeRead(std::move(h));
  EXPECT_EQ(carol.tombstones, (std::vector<std::uint64_t>{1}));
}

// Small rooms count by events; a room above PRESENCE_EVENTS_MAX (200) is
// polled for its count, which reaches members only when it changed; a count
// frame from Redis (the room crossed the limit) switches either way.
TEST_F(RoomHubTest, ACrowdedRoomsMembersHearItsCountOnlyWhenItChanged) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  HistorySlice h = history("r", 0, 0);
  h.present = {"alice", "bob"};
  h.online = 2;
  completeRead(std::move(h));
  EXPECT_EQ(alice.lastOnline, 2u);
  hub_->onRoomFrame("r", R"({"type":"presence","room":"r","event":"join","username":"carol"})");
  EXPECT_EQ(alice.events.size(), 1u);
  int turns = 0;
  ASSERT_TRUE(runUntil([&] { return ++turns > 20; }));  // a few sweeps
  EXPECT_TRUE(history_.counts.empty()) << "a small room is not polled";

  hub_->onRoomFrame("r", common::encodePresenceCount("r", 250));
  ASSERT_EQ(alice.events.size(), 2u);
  EXPECT_EQ(alice.events.back(), common::encodePresenceCount("r", 250));
  ASSERT_TRUE(runUntil([&] { return !history_.counts.empty(); }));
  auto poll = std::move(history_.counts.front());
  history_.counts.pop_front();
  EXPECT_EQ(poll.first, "r");
  poll.second(250);
  EXPECT_EQ(alice.events.size(), 2u) << "unchanged: nothing sent";
  ASSERT_TRUE(runUntil([&] { return !history_.counts.empty(); }));
  poll = std::move(history_.counts.front());
  history_.counts.pop_front();
  poll.second(260);
  EXPECT_EQ(alice.events.back(), common::encodePresenceCount("r", 260));

  // A joiner's `joined` says how many are present, however many it lists.
  FakeMember dave;
  hub_->join(dave, "r");
  HistorySlice big = history("r", 0, 0);
  big.present = {"alice", "bob"};
  big.online = 261;
  completeRead(std::move(big));
  EXPECT_EQ(dave.lastOnline, 261u);
}

TEST_F(RoomHubTest, FirstMemberSubscribesAndReadsHistoryOnlyAfterConfirmation) {
  FakeMember alice, bob;
  hub_->join(alice, "r");
  hub_->join(bob, "r");
  EXPECT_EQ(bus_.calls, std::vector<std::string>{"SUBSCRIBE r"});
  EXPECT_TRUE(history_.reads.empty()) << "history must be read after SUBSCRIBE is confirmed";
  hub_->onRoomSubscribed("r");
  ASSERT_EQ(history_.reads.size(), 1u) << "one read serves every waiting joiner";
  EXPECT_EQ(history_.reads.front().query.a, 100u);
  EXPECT_EQ(history_.reads.front().query.mode, HistoryQuery::Mode::kJoin);
  completeRead(history("r", 1, 3));
  EXPECT_EQ(alice.ids, range(1, 3));
  EXPECT_EQ(bob.ids, range(1, 3));
  EXPECT_EQ(alice.joined, 1);
}

TEST_F(RoomHubTest, FramesDuringTheReadAreMergedByIdWithoutGapOrDuplicate) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  // Published while the read is in flight: 3 is also in history, 4 is not.
  hub_->onRoomFrame("r", frame("r", 3));
  hub_->onRoomFrame("r", frame("r", 4));
  EXPECT_TRUE(alice.ids.empty()) << "nothing before history";
  completeRead(history("r", 1, 3));
  EXPECT_EQ(alice.ids, range(1, 4));
  // A frame whose pub/sub copy arrives after the read reply is not repeated.
  hub_->onRoomFrame("r", frame("r", 4));
  hub_->onRoomFrame("r", frame("r", 5));
  EXPECT_EQ(alice.ids, range(1, 5));
}

TEST_F(RoomHubTest, JoinerDuringAnInFlightReadSharesIt) {
  FakeMember alice, bob;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  hub_->onRoomFrame("r", frame("r", 8));
  hub_->join(bob, "r");
  EXPECT_EQ(history_.reads.size(), 1u);
  completeRead(history("r", 5, 7));
  EXPECT_EQ(alice.ids, range(5, 8));
  EXPECT_EQ(bob.ids, range(5, 8));
  EXPECT_EQ(hub_->stats().historyReads.value(), 1u);
}

TEST_F(RoomHubTest, LaterJoinerOnASubscribedRoomGetsItsOwnRead) {
  FakeMember alice, bob;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 2));
  hub_->join(bob, "r");
  EXPECT_EQ(bus_.calls.size(), 1u) << "already subscribed";
  ASSERT_EQ(history_.reads.size(), 1u);
  hub_->onRoomFrame("r", frame("r", 3));
  completeRead(history("r", 1, 2));
  EXPECT_EQ(alice.ids, range(1, 3));
  EXPECT_EQ(bob.ids, range(1, 3));
}

TEST_F(RoomHubTest, RoomsAreIsolated) {
  FakeMember alice, bob;
  hub_->join(alice, "a");
  hub_->join(bob, "b");
  hub_->onRoomSubscribed("a");
  hub_->onRoomSubscribed("b");
  completeRead(history("a", 0, 0));
  completeRead(history("b", 0, 0));
  hub_->onRoomFrame("a", frame("a", 1));
  hub_->onRoomFrame("b", frame("b", 1));
  hub_->onRoomFrame("b", frame("b", 2));
  EXPECT_EQ(alice.ids, range(1, 1));
  EXPECT_EQ(bob.ids, range(1, 2));
}

TEST_F(RoomHubTest, MalformedAndUnsubscribedFramesAreIgnored) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomFrame("r", frame("r", 1));  // not yet subscribed
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 0, 0));
  hub_->onRoomFrame("r", R"({"type":"message","junk":true})");
  hub_->onRoomFrame("r", frame("other", 1));  // header names another room
  EXPECT_TRUE(alice.ids.empty());
  EXPECT_EQ(hub_->stats().malformedFrames.value(), 2u);
}

TEST_F(RoomHubTest, BusOutageResubscribesAndFillsOnlyWhatMembersMissed) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 4));
  bus_.up = false;
  hub_->onBusDown();
  bus_.up = true;
  hub_->onBusUp();
  EXPECT_EQ(bus_.calls, (std::vector<std::string>{"SUBSCRIBE r", "SUBSCRIBE r"}));
  hub_->onRoomSubscribed("r");
  // 5 and 6 were published while the subscriber was away.
  completeRead(history("r", 1, 6));
  hub_->onRoomFrame("r", frame("r", 7));
  EXPECT_EQ(alice.ids, range(1, 7));
}

TEST_F(RoomHubTest, NewEpochRestartsTheSequenceForMembers) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 3));
  EXPECT_EQ(alice.joined, 1);
  // Redis lost the room: ids start again under epoch e2.
  hub_->onRoomFrame("r", frame("r", 1, "e2"));
  completeRead(history("r", 1, 1, "e2"));
  EXPECT_EQ(alice.ids, (std::vector<std::uint64_t>{1, 2, 3, 1}));
  EXPECT_EQ(alice.joined, 2) << "a fresh joined for the new epoch";
  EXPECT_EQ(alice.lastRecovered, std::optional<bool>(false));
}

TEST_F(RoomHubTest, LastLeaveUnsubscribesAfterTheGraceAndRejoinWaitsForConfirmation) {
  FakeMember alice, bob;
  auto* m = hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 0, 0));
  hub_->leave(m);
  ASSERT_TRUE(runUntil([&] { return bus_.calls.size() == 2; }));
  EXPECT_EQ(bus_.calls.back(), "UNSUBSCRIBE r");
  // Rejoining before Redis confirms the UNSUBSCRIBE must not SUBSCRIBE yet.
  hub_->join(bob, "r");
  EXPECT_EQ(bus_.calls.size(), 2u);
  hub_->onRoomUnsubscribed("r");
  EXPECT_EQ(bus_.calls.back(), "SUBSCRIBE r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 1));
  EXPECT_EQ(bob.ids, range(1, 1));
}

TEST_F(RoomHubTest, FailedReadIsRetried) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  auto read = std::move(history_.reads.front());
  history_.reads.pop_front();
  read.done(std::nullopt);  // Redis unavailable
  ASSERT_TRUE(runUntil([&] { return !history_.reads.empty(); }));
  completeRead(history("r", 1, 2));
  EXPECT_EQ(alice.ids, range(1, 2));
}

TEST_F(RoomHubTest, LeaveKeepsOtherMembersReachable) {
  FakeMember a, b, c;
  auto* ma = hub_->join(a, "r");
  hub_->join(b, "r");
  hub_->join(c, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 0, 0));
  hub_->leave(ma);
  hub_->onRoomFrame("r", frame("r", 1));
  EXPECT_TRUE(a.ids.empty());
  EXPECT_EQ(b.ids, range(1, 1));
  EXPECT_EQ(c.ids, range(1, 1));
}

TEST_F(RoomHubTest, ResumeWithinTheWindowReplaysOnlyWhatWasMissed) {
  FakeMember alice;
  hub_->join(alice, "r", JoinRequest{17, "e1"});
  hub_->onRoomSubscribed("r");
  ASSERT_EQ(history_.reads.size(), 1u);
  EXPECT_EQ(history_.reads.front().query.b, 17) << "the read reaches back to since";
  completeRead(history("r", 1, 20));
  EXPECT_EQ(alice.ids, range(18, 20));
  EXPECT_EQ(alice.lastRecovered, std::optional<bool>(true));
  EXPECT_EQ(alice.lastJoinedId, 20u);
}

TEST_F(RoomHubTest, ResumeFromAnotherEpochOrPastTheWindowIsNotRecovered) {
  FakeMember oldEpoch, trimmed, future;
  hub_->join(oldEpoch, "r", JoinRequest{3, "e0"});
  hub_->join(trimmed, "r", JoinRequest{2, "e1"});
  hub_->join(future, "r", JoinRequest{99, ""});
  hub_->onRoomSubscribed("r");
  auto slice = history("r", 11, 200);
  slice.length = 190;  // ids 11..200 held; 1..10 trimmed
  completeRead(std::move(slice));
  for (FakeMember* m : {&oldEpoch, &trimmed}) {
    EXPECT_EQ(m->lastRecovered, std::optional<bool>(false));
    EXPECT_EQ(m->ids, range(101, 200)) << "the last HISTORY_ON_JOIN messages";
  }
  EXPECT_EQ(future.lastRecovered, std::optional<bool>(true)) << "since 99 is inside the window";
  EXPECT_EQ(future.ids, range(100, 200));
}

TEST_F(RoomHubTest, SkippedIdsTriggerAGapRepairFromHistory) {
  FakeMember alice;
  hub_->join(alice, "r");
  hub_->onRoomSubscribed("r");
  completeRead(history("r", 1, 2));
  hub_->onRoomFrame("r", frame("r", 5));  // 3 and 4 were lost on the way
  EXPECT_EQ(alice.ids, range(1, 2)) << "nothing out of order";
  ASSERT_EQ(history_.reads.size(), 1u);
  EXPECT_EQ(history_.reads.front().query.b, 2);
  completeRead(history("r", 1, 4));
  hub_->onRoomFrame("r", frame("r", 6));
  EXPECT_EQ(alice.ids, range(1, 6));
  EXPECT_EQ(hub_->stats().gapRepairs.value(), 1u);
}

}  // namespace
}  // namespace chat::gateway
