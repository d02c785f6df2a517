// The WorkerBoard that makes several worker processes one gateway: totals over
// slots, readiness naming the worker that cannot serve, counters that survive a
// worker's replacement, and the board really shared across fork().
#include "workers/worker_board.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/metrics_page.h"
#include "workers/restart_backoff.h"

namespace chat::gateway {
namespace {

TEST(WorkerBoardTest, MetricsAddUpEveryWorker) {
  auto board = WorkerBoard::create(2);
  board->slot(0).plainConnections.add(3);
  board->slot(1).plainConnections.add(2);
  board->slot(1).v1Connections.add(5);
  ++board->slot(0).stats.messagesStored;
  board->slot(1).stats.messagesStored.add(4);
  board->slot(0).stats.storeLatency.observe(0.002);
  board->slot(1).stats.storeLatency.observe(0.002);
  const MetricsTotals totals = sumWorkers(*board);
  EXPECT_EQ(totals.workers, 2u);
  EXPECT_EQ(totals.plainConnections, 5u);
  EXPECT_EQ(totals.v1Connections, 5u);
  EXPECT_EQ(totals.messagesStored, 5u);
  std::string page = renderMetrics(totals);
  EXPECT_NE(page.find("chat_connections{kind=\"plain\"} 5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("chat_redis_store_duration_seconds_count 2\n"), std::string::npos);
}

TEST(WorkerBoardTest, AReplacedWorkerKeepsCountingWhereItsPredecessorStopped) {
  auto board = WorkerBoard::create(1);
  WorkerSlot& slot = board->slot(0);
  slot.claim(100);
  slot.plainConnections.add(7);
  slot.stats.connectionsOpened.add(7);
  slot.release();  // crashed with 7 clients
  slot.claim(101);
  const MetricsTotals totals = sumWorkers(*board);
  EXPECT_EQ(totals.plainConnections, 0u);
  EXPECT_EQ(totals.connectionsOpened, 7u);
}

TEST(WorkerBoardTest, ReadinessNamesTheWorkerThatCannotServe) {
  auto board = WorkerBoard::create(2);
  const std::uint64_t now = 1'000'000;
  for (std::size_t i = 0; i < 2; ++i) {
    board->slot(i).claim(static_cast<std::int32_t>(200 + i));
    board->slot(i).heartbeatMs.store(now);
  }
  EXPECT_EQ(board->problem(now, 5000), "worker 1: starting");
  board->slot(0).problem.store(WorkerProblem::kNone);
  board->slot(1).problem.store(WorkerProblem::kCommandsDown);
  EXPECT_EQ(board->problem(now, 5000), "worker 2: redis command connection down");
  board->slot(1).problem.store(WorkerProblem::kNone);
  EXPECT_EQ(board->problem(now, 5000), "");
  EXPECT_EQ(board->problem(now + 6000, 5000), "worker 1: not responding");
  board->slot(1).release();
  EXPECT_EQ(board->problem(now, 5000), "worker 2: restarting");
  board->setDraining();
  EXPECT_EQ(board->problem(now, 5000), "draining");
}

TEST(WorkerBoardTest, IsSharedWithForkedWorkers) {
  auto board = WorkerBoard::create(2);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    board->slot(1).stats.messagesReceived.add(42);
    board->slot(1).v1Connections.add(1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const MetricsTotals totals = sumWorkers(*board);
  EXPECT_EQ(totals.messagesReceived, 42u);
  EXPECT_EQ(totals.v1Connections, 1u);
}

TEST(RestartBackoffTest, DoublesUpToTheCapAndStartsOverAfterAStableRun) {
  using Ms = RestartBackoff::Ms;
  RestartBackoff backoff(Ms(100), Ms(1000), Ms(60000));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(100));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(200));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(400));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(800));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(1000));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(1000));
  EXPECT_EQ(backoff.onCrash(Ms(60000)), Ms(100));
  EXPECT_EQ(backoff.onCrash(Ms(10)), Ms(200));
}

}  // namespace
}  // namespace chat::gateway
