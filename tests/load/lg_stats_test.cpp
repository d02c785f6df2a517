#include <gtest/gtest.h>

#include "lg_report.h"
#include "lg_stats.h"

namespace chat::load {
namespace {

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
}

TEST(Histogram, ExactBelow256Microseconds) {
  Histogram h;
  for (int v = 1; v <= 100; ++v)
    h.add(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50);
  EXPECT_EQ(h.quantile(0.9), 90);
  EXPECT_EQ(h.quantile(0.99), 99);
  EXPECT_EQ(h.quantile(1.0), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, RelativeErrorUnderOnePercent) {
  for (std::int64_t v : {300LL, 1000LL, 12345LL, 999999LL, 123456789LL}) {
    Histogram h;
    h.add(v);
    h.add(v);
    const auto q = h.quantile(0.5);
    EXPECT_LE(q, v);
    EXPECT_GE(static_cast<double>(q), static_cast<double>(v) * 0.99) << v;
  }
}

TEST(Histogram, BucketsAreMonotonic) {
  std::size_t last = 0;
  for (std::int64_t v = 0; v < 5'000'000; v += 997) {
    const std::size_t i = Histogram::indexOf(v);
    EXPECT_GE(i, last);
    EXPECT_LE(Histogram::lowerBound(i), v);
    last = i;
  }
}

TEST(Histogram, PercentilesOfAKnownDistribution) {
  Histogram h;
  // 990 fast deliveries at 1 ms, 10 slow ones at 100 ms.
  for (int i = 0; i < 990; ++i)
    h.add(1000);
  for (int i = 0; i < 10; ++i)
    h.add(100000);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5)), 1000, 10);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 1000, 10);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.999)), 100000, 1000);
  EXPECT_EQ(h.max(), 100000);
}

TEST(Histogram, NegativeValuesCountAsZero) {
  Histogram h;
  h.add(-5);
  EXPECT_EQ(h.quantile(0.5), 0);
}

TEST(Histogram, MergeEqualsAddingEverything) {
  Histogram a, b, all;
  for (int i = 0; i < 500; ++i) {
    a.add(i * 7);
    all.add(i * 7);
    b.add(i * 13 + 5);
    all.add(i * 13 + 5);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.9, 0.99, 1.0})
    EXPECT_EQ(a.quantile(q), all.quantile(q)) << q;
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(Histogram, SerializeRoundTrips) {
  Histogram h;
  for (int i = 0; i < 1000; ++i)
    h.add(i * i);
  Histogram back;
  ASSERT_TRUE(back.deserialize(h.serialize()));
  EXPECT_EQ(back.count(), h.count());
  EXPECT_EQ(back.quantile(0.99), h.quantile(0.99));
  EXPECT_EQ(back.max(), h.max());
  EXPECT_EQ(back.min(), h.min());
  Histogram empty;
  ASSERT_TRUE(back.deserialize(empty.serialize()));
  EXPECT_EQ(back.count(), 0u);
  EXPECT_FALSE(back.deserialize("3 0 0 0 1:1"));  // counts do not add up
  EXPECT_FALSE(back.deserialize("garbage"));
}

TEST(DeliveryTracker, CountsLossDuplicatesAndReordering) {
  DeliveryTracker t(2, 5);  // two publishers, five messages each
  EXPECT_EQ(t.expected(), 10u);
  EXPECT_EQ(t.onMessage(0, 0), Delivery::kNew);
  EXPECT_EQ(t.onMessage(0, 1), Delivery::kNew);
  EXPECT_EQ(t.onMessage(1, 0), Delivery::kNew);
  EXPECT_EQ(t.onMessage(0, 1), Delivery::kDuplicate);
  EXPECT_EQ(t.onMessage(0, 3), Delivery::kNew);
  EXPECT_EQ(t.onMessage(0, 2), Delivery::kReordered);  // new, but after 3
  EXPECT_EQ(t.onMessage(1, 4), Delivery::kNew);        // interleaving publishers is fine
  EXPECT_EQ(t.onMessage(2, 0), Delivery::kForeign);
  EXPECT_EQ(t.onMessage(0, 5), Delivery::kForeign);
  EXPECT_EQ(t.onMessage(0, -1), Delivery::kForeign);
  EXPECT_EQ(t.unique(), 6u);
  EXPECT_EQ(t.missing(), 4u);  // 0:4 and 1:1..3
  EXPECT_EQ(t.duplicates(), 1u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.foreign(), 3u);
  EXPECT_FALSE(t.complete());
}

TEST(DeliveryTracker, CompleteWhenEverythingArrivedOnce) {
  DeliveryTracker t(3, 100);
  for (int seq = 0; seq < 100; ++seq) {
    for (std::uint32_t p = 0; p < 3; ++p)
      ASSERT_EQ(t.onMessage(p, seq), Delivery::kNew);
  }
  EXPECT_TRUE(t.complete());
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
  EXPECT_EQ(t.reordered(), 0u);
}

TEST(IdOrderTracker, ContiguousIdsAreClean) {
  IdOrderTracker t;
  for (std::uint64_t id = 17; id < 40; ++id)
    t.onId(id);  // the first id seen sets the start
  EXPECT_EQ(t.gaps(), 0u);
  EXPECT_EQ(t.repeats(), 0u);
  EXPECT_EQ(t.last(), 39u);
  EXPECT_EQ(t.seen(), 23u);
}

TEST(IdOrderTracker, GapsAndRepeats) {
  IdOrderTracker t;
  t.onId(1);
  t.onId(2);
  t.onId(5);  // 3 and 4 skipped
  t.onId(4);  // late
  t.onId(5);  // twice
  t.onId(6);
  EXPECT_EQ(t.gaps(), 2u);
  EXPECT_EQ(t.repeats(), 2u);
  EXPECT_EQ(t.last(), 6u);
}

TEST(IdOrderTracker, ResumeExpectsTheNextId) {
  IdOrderTracker t;
  t.expectAfter(10);
  t.onId(12);  // 11 missing
  EXPECT_EQ(t.gaps(), 1u);
  IdOrderTracker u;
  u.expectAfter(10);
  u.onId(11);
  u.onId(12);
  EXPECT_EQ(u.gaps(), 0u);
  EXPECT_EQ(u.repeats(), 0u);
}

TEST(Summary, NearestRank) {
  const Summary s = summarize({5, 1, 4, 2, 3, 6, 7, 8, 9, 10});
  EXPECT_EQ(s.n, 10u);
  EXPECT_DOUBLE_EQ(s.p50, 5);
  EXPECT_DOUBLE_EQ(s.p90, 9);
  EXPECT_DOUBLE_EQ(s.p99, 10);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_EQ(summarize({}).n, 0u);
}

TEST(Median, OddEvenEmpty) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 2, 3}), 2.5);
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(Report, ParsesCommandStats) {
  const auto calls = parseCommandStats(
      "$200\r\n# Commandstats\r\n"
      "cmdstat_evalsha:calls=1234,usec=99,usec_per_call=0.08,rejected_calls=0,failed_calls=0\r\n"
      "cmdstat_info:calls=3,usec=1,usec_per_call=0.3\r\n");
  EXPECT_EQ(calls.at("evalsha"), 1234u);
  EXPECT_EQ(calls.at("info"), 3u);
  EXPECT_EQ(calls.count("eval"), 0u);
}

TEST(Report, ParsesAPrometheusSample) {
  const std::string page =
      "HTTP/1.0 200 OK\r\n\r\n# HELP chat_history_reads_total History reads.\n"
      "# TYPE chat_history_reads_total counter\nchat_history_reads_total 42\n"
      "chat_history_reads_total_other 7\n";
  EXPECT_EQ(parseMetric(page, "chat_history_reads_total"), 42.0);
  EXPECT_FALSE(parseMetric(page, "chat_missing").has_value());
}

TEST(Report, JsonObjectFormatsNumbersAndStrings) {
  JsonObject o;
  o.num("a", 1.5).num("b", 2.0).integer("c", -3).str("d", "x\"y\n").boolean("e", true);
  EXPECT_EQ(o.text(), R"({"a":1.5,"b":2,"c":-3,"d":"x\"y\u000a","e":true})");
}

}  // namespace
}  // namespace chat::load
