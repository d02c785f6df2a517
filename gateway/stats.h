#pragma once
// Counters of what one worker did, kept where /metrics will read them: in its
// slot of the WorkerBoard, so that any worker of the gateway can add up all of
// them. Written by the worker's loop thread only.

#include <array>
#include <cstdint>

#include "metrics/counter.h"
#include "metrics/histogram.h"
#include "protocol/refusal.h"

namespace chat::gateway {

struct ServerStats {
  Counter connectionsOpened;
  Counter messagesReceived;
  Counter messagesStored;
  Counter storeFailures;
  Counter slowConsumers;
  Counter messagesDelivered;  // message frames written to sockets
  Histogram storeLatency;     // the store script's round trip
  Histogram deliveryLatency;  // from the message's ts to its write
  std::array<Counter, common::kRefusalCount> refusals{};

  void refuse(common::Refusal reason) { ++refusals[static_cast<std::size_t>(reason)]; }
};

}  // namespace chat::gateway
