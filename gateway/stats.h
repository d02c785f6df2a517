#pragma once
// Counters of what the gateway did, kept where /metrics will read them. Plain
// integers: only the loop thread writes or reads them.

#include <array>
#include <cstdint>

#include "metrics/histogram.h"
#include "protocol/refusal.h"

namespace chat::gateway {

struct ServerStats {
  std::uint64_t connectionsOpened = 0;
  std::uint64_t messagesReceived = 0;
  std::uint64_t messagesStored = 0;
  std::uint64_t storeFailures = 0;
  std::uint64_t slowConsumers = 0;
  std::uint64_t messagesDelivered = 0;  // message frames written to sockets
  Histogram storeLatency;               // the store script's round trip
  Histogram deliveryLatency;            // from the message's ts to its write
  std::array<std::uint64_t, common::kRefusalCount> refusals{};

  void refuse(common::Refusal reason) { ++refusals[static_cast<std::size_t>(reason)]; }
};

}  // namespace chat::gateway
