#include "metrics/metrics_page.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "metrics/process_metrics.h"
#include "protocol/refusal.h"
#include "workers/worker_board.h"

namespace chat::gateway {
namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `labels` is either empty or `{key="value",...}`.
void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  char number[32];
  std::snprintf(number, sizeof number, "%.17g", value);
  out += name;
  out += labels;
  out += ' ';
  out += number;
  out += '\n';
}

void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  header(out, name, type, help);
  sample(out, name, {}, value);
}

}  // namespace

MetricsTotals sumWorkers(const WorkerBoard& board) {
  MetricsTotals t;
  t.workers = board.size();
  for (std::size_t i = 0; i < board.size(); ++i) {
    const WorkerSlot& w = board.slot(i);
    const auto level = [](const Gauge& g) {
      return static_cast<std::uint64_t>(std::max<std::int64_t>(0, g.value()));
    };
    t.plainConnections += level(w.plainConnections);
    t.v1Connections += level(w.v1Connections);
    t.rooms += level(w.hub.rooms);
    t.queuedBytes += level(w.queuedBytes);
    t.commandsUp = t.commandsUp && w.commandsUp.value() != 0;
    t.subscriberUp = t.subscriberUp && w.subscriberUp.value() != 0;
    t.redisShards = std::max(t.redisShards, level(w.redisShards));
    t.redisShardsUp =
        i == 0 ? level(w.redisShardsUp) : std::min(t.redisShardsUp, level(w.redisShardsUp));
    t.commandReconnects += w.commandReconnects.value();
    t.subscriberReconnects += w.subscriberReconnects.value();
    const ServerStats& s = w.stats;
    t.connectionsOpened += s.connectionsOpened.value();
    t.messagesReceived += s.messagesReceived.value();
    t.messagesStored += s.messagesStored.value();
    t.storeFailures += s.storeFailures.value();
    t.slowConsumers += s.slowConsumers.value();
    t.messagesDelivered += s.messagesDelivered.value();
    for (std::size_t r = 0; r < t.refusals.size(); ++r)
      t.refusals[r] += s.refusals[r].value();
    s.storeLatency.addTo(t.storeLatency);
    s.deliveryLatency.addTo(t.deliveryLatency);
    t.busFramesReceived += w.hub.framesReceived.value();
    t.historyReads += w.hub.historyReads.value();
    t.gapRepairs += w.hub.gapRepairs.value();
    t.process.cpuSeconds += w.cpuSeconds.value();
    t.process.residentBytes += static_cast<double>(level(w.residentBytes));
    t.process.virtualBytes += static_cast<double>(level(w.virtualBytes));
    t.process.openFds += static_cast<double>(level(w.openFds));
    t.process.maxFds = std::max(t.process.maxFds, static_cast<double>(level(w.maxFds)));
    const auto start = static_cast<double>(level(w.startTimeSeconds));
    if (start > 0 && (t.process.startTimeSeconds == 0 || start < t.process.startTimeSeconds))
      t.process.startTimeSeconds = start;
  }
  return t;
}

std::string renderMetrics(const MetricsTotals& t) {
  std::string out;
  out.reserve(8192);

  single(out, "chat_workers", "gauge", "Worker processes (event loops) of this gateway.",
         static_cast<double>(t.workers));
  header(out, "chat_connections", "gauge", "Open WebSocket connections by client kind.");
  sample(out, "chat_connections", "{kind=\"plain\"}", static_cast<double>(t.plainConnections));
  sample(out, "chat_connections", "{kind=\"v1\"}", static_cast<double>(t.v1Connections));
  single(out, "chat_connections_opened_total", "counter", "WebSocket connections accepted.",
         static_cast<double>(t.connectionsOpened));
  single(out, "chat_rooms", "gauge", "Rooms with clients, summed over this gateway's workers.",
         static_cast<double>(t.rooms));
  single(out, "chat_messages_received_total", "counter", "Client frames received.",
         static_cast<double>(t.messagesReceived));
  single(out, "chat_messages_stored_total", "counter",
         "Messages stored in Redis history (and published) by this gateway.",
         static_cast<double>(t.messagesStored));
  single(out, "chat_messages_published_total", "counter",
         "Messages published to the room channels by this gateway's store script.",
         static_cast<double>(t.messagesStored));
  single(out, "chat_store_failures_total", "counter", "Messages Redis could not store.",
         static_cast<double>(t.storeFailures));
  single(out, "chat_bus_frames_received_total", "counter",
         "Frames received from the room channels.", static_cast<double>(t.busFramesReceived));
  single(out, "chat_messages_delivered_total", "counter",
         "Message frames written to client sockets.", static_cast<double>(t.messagesDelivered));
  single(out, "chat_history_reads_total", "counter", "History reads for joins and gap repair.",
         static_cast<double>(t.historyReads));
  single(out, "chat_gap_repairs_total", "counter", "Times skipped ids were filled from history.",
         static_cast<double>(t.gapRepairs));

  header(out, "chat_refusals_total", "counter", "Client input refused, by reason.");
  for (std::size_t i = 0; i < common::kRefusalCount; ++i) {
    const auto label = common::refusalLabel(static_cast<common::Refusal>(i));
    sample(out, "chat_refusals_total", "{reason=\"" + std::string(label) + "\"}",
           static_cast<double>(t.refusals[i]));
  }
  single(out, "chat_slow_consumer_closes_total", "counter",
         "Clients closed because their outbound queue was full.",
         static_cast<double>(t.slowConsumers));
  single(out, "chat_outbound_queue_bytes", "gauge", "Bytes waiting in client outbound queues.",
         static_cast<double>(t.queuedBytes));
  single(out, "chat_ready", "gauge", "1 while /readyz answers 200.", t.ready ? 1 : 0);

  header(out, "chat_redis_up", "gauge", "1 while the Redis connection is up on every worker.");
  sample(out, "chat_redis_up", "{connection=\"commands\"}", t.commandsUp ? 1 : 0);
  sample(out, "chat_redis_up", "{connection=\"subscriber\"}", t.subscriberUp ? 1 : 0);
  single(out, "chat_redis_shards", "gauge",
         "Redis Cluster primaries in the slot map (0 when not a cluster).",
         static_cast<double>(t.redisShards));
  single(out, "chat_redis_shards_up", "gauge",
         "Redis Cluster primaries whose command and subscriber links are up on every worker.",
         static_cast<double>(t.redisShardsUp));
  header(out, "chat_redis_reconnects_total", "counter", "Redis reconnection attempts.");
  sample(out, "chat_redis_reconnects_total", "{connection=\"commands\"}",
         static_cast<double>(t.commandReconnects));
  sample(out, "chat_redis_reconnects_total", "{connection=\"subscriber\"}",
         static_cast<double>(t.subscriberReconnects));

  header(out, "chat_redis_store_duration_seconds", "histogram",
         "Round trip of the Redis store script.");
  t.storeLatency.write(out, "chat_redis_store_duration_seconds");
  header(out, "chat_delivery_latency_seconds", "histogram",
         "From a message's store time (ts) to its write on a client socket.");
  t.deliveryLatency.write(out, "chat_delivery_latency_seconds");

  writeProcessMetrics(out, t.process);
  return out;
}

}  // namespace chat::gateway
