#include "lg_stats.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace chat::load {

std::size_t Histogram::indexOf(std::int64_t us) {
  if (us < 256) return us < 0 ? 0 : static_cast<std::size_t>(us);
  const int e = std::bit_width(static_cast<std::uint64_t>(us)) - 8;  // us in [2^(e+7), 2^(e+8))
  const std::size_t index =
      256 + static_cast<std::size_t>(e - 1) * 128 + static_cast<std::size_t>(us >> e) - 128;
  return std::min(index, kBuckets - 1);
}

std::int64_t Histogram::lowerBound(std::size_t index) {
  if (index < 256) return static_cast<std::int64_t>(index);
  const int e = static_cast<int>((index - 256) / 128) + 1;
  const auto mantissa = static_cast<std::int64_t>((index - 256) % 128 + 128);
  return mantissa << e;
}

void Histogram::add(std::int64_t us) {
  if (us < 0) us = 0;
  if (n_ == 0 || us < min_) min_ = us;
  if (us > max_) max_ = us;
  ++counts_[indexOf(us)];
  ++n_;
  sum_ += static_cast<double>(us);
}

void Histogram::merge(const Histogram& other) {
  if (other.n_ == 0) return;
  if (n_ == 0 || other.min_ < min_) min_ = other.min_;
  max_ = std::max(max_, other.max_);
  for (std::size_t i = 0; i < kBuckets; ++i)
    counts_[i] += other.counts_[i];
  n_ += other.n_;
  sum_ += other.sum_;
}

std::int64_t Histogram::quantile(double q) const {
  if (n_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n_)));
  rank = std::clamp<std::uint64_t>(rank, 1, n_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(lowerBound(i), min_, max_);
  }
  return max_;
}

std::string Histogram::serialize() const {
  std::string out = std::to_string(n_) + " " + std::to_string(static_cast<long long>(sum_)) + " " +
                    std::to_string(min()) + " " + std::to_string(max_);
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] == 0) continue;
    out += ' ';
    out += std::to_string(i);
    out += ':';
    out += std::to_string(counts_[i]);
  }
  return out;
}

namespace {

template <typename T>
bool takeNumber(std::string_view& text, T& value, char end) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  if (!text.empty()) {
    if (text.front() != end) return false;
    text.remove_prefix(1);
  }
  return true;
}

}  // namespace

bool Histogram::deserialize(std::string_view text) {
  Histogram h;
  long long sum = 0;
  if (!takeNumber(text, h.n_, ' ') || !takeNumber(text, sum, ' ') ||
      !takeNumber(text, h.min_, ' ') || !takeNumber(text, h.max_, ' '))
    return false;
  h.sum_ = static_cast<double>(sum);
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::size_t index = 0;
    std::uint32_t count = 0;
    if (!takeNumber(text, index, ':') || !takeNumber(text, count, ' ') || index >= kBuckets)
      return false;
    h.counts_[index] += count;
    total += count;
  }
  if (total != h.n_) return false;
  *this = std::move(h);
  return true;
}

DeliveryTracker::DeliveryTracker(std::uint32_t publishers, std::uint32_t perPublisher)
    : publishers_(publishers),
      perPublisher_(perPublisher),
      bits_((static_cast<std::size_t>(publishers) * perPublisher + 63) / 64, 0),
      lastSeq_(publishers, -1) {}

Delivery DeliveryTracker::onMessage(std::uint32_t publisher, std::int64_t seq) {
  if (publisher >= publishers_ || seq < 0 || seq >= perPublisher_) {
    ++foreign_;
    return Delivery::kForeign;
  }
  const std::size_t bit =
      static_cast<std::size_t>(publisher) * perPublisher_ + static_cast<std::size_t>(seq);
  const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
  if ((bits_[bit / 64] & mask) != 0) {
    ++duplicates_;
    return Delivery::kDuplicate;
  }
  bits_[bit / 64] |= mask;
  ++unique_;
  if (seq < lastSeq_[publisher]) {
    ++reordered_;
    return Delivery::kReordered;
  }
  lastSeq_[publisher] = seq;
  return Delivery::kNew;
}

void IdOrderTracker::onId(std::uint64_t id) {
  ++seen_;
  if (last_ == 0 && seen_ == 1) {
    last_ = id;
    return;
  }
  if (id == last_ + 1) {
    last_ = id;
  } else if (id <= last_) {
    ++repeats_;
  } else {
    gaps_ += id - last_ - 1;
    last_ = id;
  }
}

Summary summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.n = values.size();
  double sum = 0;
  for (double v : values)
    sum += v;
  s.mean = sum / static_cast<double>(s.n);
  auto rank = [&](double q) {
    auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(s.n)));
    return values[std::clamp<std::size_t>(r, 1, s.n) - 1];
  };
  s.p50 = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  s.max = values.back();
  return s;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace chat::load
