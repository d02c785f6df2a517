#include "metrics/metrics_page.h"

#include <cstdio>
#include <string_view>

#include "metrics/process_metrics.h"
#include "protocol/refusal.h"

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

std::string renderMetrics(const MetricsSnapshot& s) {
  const ServerStats& stats = *s.stats;
  const HubStats& hub = *s.hub;
  std::string out;
  out.reserve(8192);

  header(out, "chat_connections", "gauge", "Open WebSocket connections by client kind.");
  sample(out, "chat_connections", "{kind=\"plain\"}", static_cast<double>(s.plainConnections));
  sample(out, "chat_connections", "{kind=\"v1\"}", static_cast<double>(s.v1Connections));
  single(out, "chat_connections_opened_total", "counter", "WebSocket connections accepted.",
         static_cast<double>(stats.connectionsOpened));
  single(out, "chat_rooms", "gauge", "Rooms with clients on this gateway.",
         static_cast<double>(s.rooms));
  single(out, "chat_messages_received_total", "counter", "Client frames received.",
         static_cast<double>(stats.messagesReceived));
  single(out, "chat_messages_stored_total", "counter",
         "Messages stored in Redis history (and published) by this gateway.",
         static_cast<double>(stats.messagesStored));
  single(out, "chat_messages_published_total", "counter",
         "Messages published to the room channels by this gateway's store script.",
         static_cast<double>(stats.messagesStored));
  single(out, "chat_store_failures_total", "counter", "Messages Redis could not store.",
         static_cast<double>(stats.storeFailures));
  single(out, "chat_bus_frames_received_total", "counter",
         "Frames received from the room channels.", static_cast<double>(hub.framesReceived));
  single(out, "chat_messages_delivered_total", "counter",
         "Message frames written to client sockets.", static_cast<double>(stats.messagesDelivered));
  single(out, "chat_history_reads_total", "counter", "History reads for joins and gap repair.",
         static_cast<double>(hub.historyReads));
  single(out, "chat_gap_repairs_total", "counter", "Times skipped ids were filled from history.",
         static_cast<double>(hub.gapRepairs));

  header(out, "chat_refusals_total", "counter", "Client input refused, by reason.");
  for (std::size_t i = 0; i < common::kRefusalCount; ++i) {
    const auto label = common::refusalLabel(static_cast<common::Refusal>(i));
    sample(out, "chat_refusals_total", "{reason=\"" + std::string(label) + "\"}",
           static_cast<double>(stats.refusals[i]));
  }
  single(out, "chat_slow_consumer_closes_total", "counter",
         "Clients closed because their outbound queue was full.",
         static_cast<double>(stats.slowConsumers));
  single(out, "chat_outbound_queue_bytes", "gauge", "Bytes waiting in client outbound queues.",
         static_cast<double>(s.queuedBytes));
  single(out, "chat_ready", "gauge", "1 while /readyz answers 200.", s.ready ? 1 : 0);

  header(out, "chat_redis_up", "gauge", "1 while the Redis connection is up.");
  sample(out, "chat_redis_up", "{connection=\"commands\"}", s.commandsUp ? 1 : 0);
  sample(out, "chat_redis_up", "{connection=\"subscriber\"}", s.subscriberUp ? 1 : 0);
  header(out, "chat_redis_reconnects_total", "counter", "Redis reconnection attempts.");
  sample(out, "chat_redis_reconnects_total", "{connection=\"commands\"}", s.commandReconnects);
  sample(out, "chat_redis_reconnects_total", "{connection=\"subscriber\"}", s.subscriberReconnects);

  header(out, "chat_redis_store_duration_seconds", "histogram",
         "Round trip of the Redis store script.");
  stats.storeLatency.write(out, "chat_redis_store_duration_seconds");
  header(out, "chat_delivery_latency_seconds", "histogram",
         "From a message's store time (ts) to its write on a client socket.");
  stats.deliveryLatency.write(out, "chat_delivery_latency_seconds");

  writeProcessMetrics(out);
  return out;
}

}  // namespace chat::gateway
