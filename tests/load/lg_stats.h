#pragma once
// Statistics of the load generator, as plain data with no I/O so that they are
// unit-tested: a log-linear latency histogram (percentiles, mergeable across
// processes), per-subscriber delivery accounting by per-publisher sequence
// numbers (loss, duplicates, reordering) and by the gateway's per-room ids
// (gaps, repeats). Single-threaded.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::load {

// Latency histogram in microseconds: exact below 256 us, then 128 buckets per
// power of two (under 0.8% relative error), up to about 2^43 us.
class Histogram {
 public:
  static constexpr std::size_t kBuckets = 256 + 36 * 128;

  static std::size_t indexOf(std::int64_t us);
  static std::int64_t lowerBound(std::size_t index);

  void add(std::int64_t us);
  void merge(const Histogram& other);
  // The smallest recorded value v such that at least q*n values are <= v
  // (bucket lower bound, clamped to [min, max]); 0 when empty.
  std::int64_t quantile(double q) const;
  std::uint64_t count() const { return n_; }
  std::int64_t min() const { return n_ == 0 ? 0 : min_; }
  std::int64_t max() const { return max_; }
  double mean() const { return n_ == 0 ? 0 : sum_ / static_cast<double>(n_); }

  // "n sum min max idx:count idx:count ..." (non-empty buckets only), and back.
  std::string serialize() const;
  bool deserialize(std::string_view text);

 private:
  std::vector<std::uint32_t> counts_ = std::vector<std::uint32_t>(kBuckets, 0);
  std::uint64_t n_ = 0;
  double sum_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

enum class Delivery { kNew, kDuplicate, kReordered, kForeign };

// What one subscriber got from the publishers of its room. Publisher j sends
// sequence numbers 0..perPublisher-1 in order; a delivery is new, a duplicate
// (seen before), reordered (new, but older than a sequence number already seen
// from the same publisher) or foreign (out of range).
class DeliveryTracker {
 public:
  DeliveryTracker() = default;
  DeliveryTracker(std::uint32_t publishers, std::uint32_t perPublisher);

  Delivery onMessage(std::uint32_t publisher, std::int64_t seq);
  std::uint64_t expected() const { return static_cast<std::uint64_t>(publishers_) * perPublisher_; }
  std::uint64_t unique() const { return unique_; }
  std::uint64_t missing() const { return expected() - unique_; }
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t reordered() const { return reordered_; }
  std::uint64_t foreign() const { return foreign_; }
  bool complete() const { return unique_ == expected(); }

 private:
  std::uint32_t publishers_ = 0;
  std::uint32_t perPublisher_ = 0;
  std::vector<std::uint64_t> bits_;
  std::vector<std::int64_t> lastSeq_;
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t foreign_ = 0;
};

// The gateway's promise for one room: ids strictly increasing by 1. The first
// id seen sets the start (history or live); after that an id above last+1 is
// a gap (counted as the ids skipped) and an id <= last a repeat/reorder.
class IdOrderTracker {
 public:
  void onId(std::uint64_t id);
  // Starts over (e.g. a fresh `joined` with recovered:false).
  void reset() { last_ = 0; }
  // A resume: the next id must be last+1.
  void expectAfter(std::uint64_t last) { last_ = last; }
  std::uint64_t last() const { return last_; }
  std::uint64_t gaps() const { return gaps_; }
  std::uint64_t repeats() const { return repeats_; }
  std::uint64_t seen() const { return seen_; }

 private:
  std::uint64_t last_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t repeats_ = 0;
  std::uint64_t seen_ = 0;
};

// Exact summary of a small sample (connect times): sorted copy, nearest rank.
struct Summary {
  std::size_t n = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Summary summarize(std::vector<double> values);

// Median of a list (mean of the middle two when even); 0 when empty.
double median(std::vector<double> values);

}  // namespace chat::load
