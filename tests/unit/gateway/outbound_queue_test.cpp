#include "ws/outbound_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace chat::gateway {
namespace {

TEST(OutboundQueueTest, KeepsOrderAndCountsBytes) {
  OutboundQueue queue;
  const QueueLimits limits{1024, 16};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(queue.pushOrReject(SharedFrame::make(std::to_string(i)), limits));
  EXPECT_EQ(queue.frames(), 10u);
  EXPECT_EQ(queue.bytes(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(queue.front().view(), std::to_string(i));
    queue.pop();
  }
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(OutboundQueueTest, KeepsOrderWhenAnInlineFrameMovesToTheRingAndAfterDraining) {
  OutboundQueue queue;
  const QueueLimits limits{1024, 16};
  for (int round = 0; round < 3; ++round) {
    // One frame (inline), popped; then one, joined by two more (ring).
    ASSERT_TRUE(queue.pushOrReject(SharedFrame::make("solo"), limits));
    EXPECT_EQ(queue.front().view(), "solo");
    queue.pop();
    EXPECT_TRUE(queue.empty());
    for (const char* text : {"a", "b", "c"})
      ASSERT_TRUE(queue.pushOrReject(SharedFrame::make(text), limits));
    EXPECT_EQ(queue.bytes(), 3u);
    for (const char* text : {"a", "b"}) {
      EXPECT_EQ(queue.front().view(), text);
      queue.pop();
    }
    ASSERT_TRUE(queue.pushOrReject(SharedFrame::make("d"), limits));
    for (const char* text : {"c", "d"}) {
      EXPECT_EQ(queue.front().view(), text);
      queue.pop();
    }
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.bytes(), 0u);
  }
}

TEST(OutboundQueueTest, RefusesPastTheFrameLimit) {
  OutboundQueue queue;
  const QueueLimits limits{1 << 20, 3};
  auto frame = SharedFrame::make("x");
  EXPECT_TRUE(queue.pushOrReject(frame, limits));
  EXPECT_TRUE(queue.pushOrReject(frame, limits));
  EXPECT_TRUE(queue.pushOrReject(frame, limits));
  EXPECT_FALSE(queue.pushOrReject(frame, limits));
  EXPECT_EQ(queue.frames(), 3u);
  EXPECT_EQ(frame.use_count(), 4) << "queued frames share one buffer";
}

TEST(OutboundQueueTest, RefusesPastTheByteLimit) {
  OutboundQueue queue;
  const QueueLimits limits{10, 100};
  EXPECT_TRUE(queue.pushOrReject(SharedFrame::make("123456"), limits));
  EXPECT_FALSE(queue.pushOrReject(SharedFrame::make("12345"), limits));
  EXPECT_TRUE(queue.pushOrReject(SharedFrame::make("1234"), limits));
  EXPECT_EQ(queue.bytes(), 10u);
}

TEST(OutboundQueueTest, WrapsAroundAndGrows) {
  OutboundQueue queue;
  const QueueLimits limits{1 << 20, 1000};
  int next = 0;
  int expected = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i)
      ASSERT_TRUE(queue.pushOrReject(SharedFrame::make(std::to_string(next++)), limits));
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(queue.front().view(), std::to_string(expected++));
      queue.pop();
    }
  }
  EXPECT_EQ(queue.frames(), static_cast<std::size_t>(next - expected));
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_TRUE(queue.pushOrReject(SharedFrame::make("again"), limits));
}

}  // namespace
}  // namespace chat::gateway
