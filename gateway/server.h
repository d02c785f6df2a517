#pragma once
// One gateway worker: owns every part and wires them together on one libuv
// loop. The parts stand alone: AdmissionPolicy decides upgrades,
// ConnectionRegistry owns connections, HttpRoutes maps paths, ChatService
// speaks the protocols, RoomHub fans out, WorkerReporter tells the other
// workers how this one is. Start order: Redis links, then the WebSocket
// endpoint; shutdown order is the reverse, after a drain (SIGTERM/SIGINT)
// that stops accepting, lets stores in flight finish, and closes every client
// with 1001.
//
// Members are declared in dependency order and destroyed in reverse: the
// endpoint (and with it every Connection) goes before the hub, the hub before
// the bus and the store, those before their Redis connections. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "admission/admission.h"
#include "auth/jwks_fetcher.h"
#include "bus/cluster_bus.h"
#include "bus/redis_bus.h"
#include "chat/chat_service.h"
#include "config/settings.h"
#include "http/rest_api.h"
#include "http/routes.h"
#include "loop/memory_trim.h"
#include "loop/uv_handles.h"
#include "metrics/metrics_page.h"
#include "redis/cluster_topology.h"
#include "redis/redis_connection.h"
#include "redis/redis_router.h"
#include "redis/sentinel_watch.h"
#include "redis/tls_tunnel.h"
#include "rooms/presence_tracker.h"
#include "rooms/room_hub.h"
#include "stats.h"
#include "store/message_store.h"
#include "store/redis_keys.h"
#include "workers/worker_board.h"
#include "workers/worker_reporter.h"
#include "ws/connection.h"
#include "ws/connection_registry.h"
#include "ws/ws_endpoint.h"

namespace chat::gateway {

// Where a worker reports to the rest of its gateway: the shared board and its
// slot. Without a board (WORKERS=1) the server makes its own.
struct WorkerSeat {
  WorkerBoard* board = nullptr;
  std::size_t slot = 0;
};

class Server final : public EndpointHandler, public ConnectionHandler {
 public:
  Server(uv_loop_t* loop, common::Settings settings, WorkerSeat seat = {});
  ~Server() override;

  // Binds the port and connects to Redis; false when the port cannot be bound.
  bool start();
  // Begins the graceful shutdown; the loop ends once it completes.
  void drain();
  // Stops everything now; the loop ends once the handles have closed.
  void teardown();
  int port() const { return endpoint_ ? endpoint_->port() : -1; }
  bool ready() const;
  const ServerStats& stats() const { return stats_; }

  // EndpointHandler
  int onHttp(lws* wsi, Session& session, std::string_view path) override;
  void onHttpBody(Session& session, const void* data, std::size_t len) override;
  int onHttpBodyComplete(lws* wsi, Session& session) override;
  int onHttpWritable(lws* wsi, Session& session) override;
  void onHttpClosed(Session& session) override;
  bool onUpgradeRequest(lws* wsi) override;
  void onEstablished(lws* wsi, Session& session, bool v1) override;
  void onReceive(Session& session, const void* data, std::size_t len) override;
  bool onWritable(Session& session) override;
  void onPeerClosing(Session& session) override;
  void onClosed(Session& session) override;
  bool onNetworkConnection() override;
  void onWsiDestroyed(lws* wsi) override;
  void onRequestRefused(unsigned status) override;
  void onBufferedRequest(const BufferedRequest& request, RequestGate::Respond respond) override;

  // ConnectionHandler
  void onClientText(Connection& connection, std::string_view text) override;
  void onSlowConsumer(Connection& connection) override;
  void onRoomForHistory(Connection& connection) override;

 private:
  Connection* findConnection(std::uint64_t id);
  WorkerHealth health() const;
  // Publishes a heartbeat to the bus' own channel, and drops the subscriber
  // link when the previous one did not come back within REDIS_TIMEOUT.
  void watchSubscriberLink();
  std::string readinessProblem() const;
  // A message on the control channel: {"type":"disconnect","username":..}
  // closes that user's connections here with 4002.
  void onControlMessage(std::string_view payload);
  // Cluster shards that are down while others serve: a note for /readyz.
  std::string degradedNote() const;
  HandshakeRequest handshakeOf(lws* wsi) const;
  void finishDrainIfIdle();
  // A WriteScheduler pass over one connection.
  void flush(Connection& connection);
  void queueClose(const Connection& connection);
  void closeQueued();

  uv_loop_t* loop_;
  common::Settings settings_;
  std::unique_ptr<WorkerBoard> ownBoard_;  // WORKERS=1 only
  WorkerBoard& board_;
  WorkerSlot& slot_;
  ServerStats& stats_;  // in slot_
  RedisKeys keys_;
  ConnectionLimits connectionLimits_;
  WriteScheduler writes_;
  std::uint64_t nextConnectionId_ = 1;
  bool draining_ = false;
  bool flushingPresence_ = false;  // the drain's last step: presence leaves out
  bool tornDown_ = false;

  std::unique_ptr<TlsTunnel> tls_;  // rediss:// only; outlives both connections
  // One server or Sentinel: one command link and one subscriber link (bus_).
  RedisConnection commands_;
  SingleNodeRouter singleNode_;
  // redis+cluster://: a command and a subscriber link per primary instead.
  std::unique_ptr<ClusterTopology> cluster_;
  MessageStore store_;
  RedisBus bus_;
  std::unique_ptr<SentinelWatch> sentinelWatch_;  // redis+sentinel:// only
  std::unique_ptr<ClusterBus> clusterBus_;
  RoomHub hub_;
  PresenceTracker presence_;
  ChatService chat_;
  RestApi api_;
  AdmissionPolicy admission_;
  ConnectionRegistry connections_;  // outlives endpoint_, whose destruction closes them
  HttpRoutes routes_;
  WorkerReporter reporter_;
  std::unique_ptr<WsEndpoint> endpoint_;
  std::vector<std::uint64_t> closeQueue_;  // connections to close outside lws callbacks
  Timer closeTimer_;
  Timer drainTimer_;
  Timer subscriberWatch_;
  Timer tokenSweep_;  // token expiry and `auth` deadlines (docs/protocol.md section 10)
  std::unique_ptr<JwksFetcher> jwks_;  // AUTH_JWKS_URL only
  MemoryTrim memoryTrim_;              // freed memory back to the system after bursts
  std::uint64_t heartbeatSentAt_ = 0;  // uv_now ms; 0: none awaited
  SignalWatcher sigterm_;
  SignalWatcher sigint_;
};

}  // namespace chat::gateway
