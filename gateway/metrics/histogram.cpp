#include "metrics/histogram.h"

#include <cstdio>

namespace chat::gateway {

void Histogram::addTo(HistogramTotals& totals) const {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    totals.counts[i] += counts_[i].value();
  totals.sum += sum_.value();
}

void HistogramTotals::write(std::string& out, std::string_view name) const {
  std::uint64_t cumulative = 0;
  char line[160];
  for (std::size_t i = 0; i <= kHistogramBounds.size(); ++i) {
    cumulative += counts[i];
    if (i < kHistogramBounds.size()) {
      std::snprintf(line, sizeof line, "%.*s_bucket{le=\"%g\"} %llu\n",
                    static_cast<int>(name.size()), name.data(), kHistogramBounds[i],
                    static_cast<unsigned long long>(cumulative));
    } else {
      std::snprintf(line, sizeof line, "%.*s_bucket{le=\"+Inf\"} %llu\n",
                    static_cast<int>(name.size()), name.data(),
                    static_cast<unsigned long long>(cumulative));
    }
    out += line;
  }
  std::snprintf(line, sizeof line, "%.*s_sum %.9g\n%.*s_count %llu\n",
                static_cast<int>(name.size()), name.data(), sum, static_cast<int>(name.size()),
                name.data(), static_cast<unsigned long long>(cumulative));
  out += line;
}

}  // namespace chat::gateway
