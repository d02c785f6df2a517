#include "server.h"

#include <unistd.h>

#include <csignal>

#include "http/http_response.h"
#include "log/log.h"
#include "metrics/metrics_page.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "util/clock.h"
#include "util/query.h"

namespace chat::gateway {
namespace {

std::chrono::seconds wholeSeconds(std::chrono::milliseconds ms) {
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(ms));
}

// Socket reads of Redis input taken in before each write pass (16 KiB each).
constexpr int kReadAheadReads = 4;

}  // namespace

Server::Server(uv_loop_t* loop, common::Settings settings, WorkerSeat seat)
    : loop_(loop),
      settings_(std::move(settings)),
      ownBoard_(seat.board == nullptr ? WorkerBoard::create(1) : nullptr),
      board_(seat.board != nullptr ? *seat.board : *ownBoard_),
      slot_(board_.slot(seat.board != nullptr ? seat.slot : 0)),
      stats_(slot_.stats),
      keys_(settings_.redisPrefix),
      connectionLimits_{
          {settings_.maxQueueBytes, settings_.maxQueueFrames}, settings_.maxFrameBytes, &stats_},
      writes_(
          loop, [this](Connection& connection) { flush(connection); },
          std::chrono::milliseconds(settings_.writeGapMs)),
      commands_(loop, settings_.redis, "chat-gw:" + settings_.gatewayId + ":cmd",
                {.onUp =
                     [this] {
                       store_.loadScripts(commands_);
                       // Entries may have expired while Redis was away.
                       presence_.refreshAll();
                       // The other workers' /readyz learns it now, not a beat later.
                       reporter_.publish(false);
                     },
                 .onDown = [this] { reporter_.publish(false); }},
                {.replyTimeout = settings_.redisTimeout, .pingWhenIdle = true}),
      singleNode_(commands_),
      cluster_(settings_.redis.cluster
                   ? std::make_unique<ClusterTopology>(
                         loop, settings_.redis, "chat-gw:" + settings_.gatewayId,
                         settings_.redisTimeout, settings_.shardedPubsub,
                         TlsOptions{{}, 0, settings_.redisTlsVerify, settings_.redisTlsCa})
                   : nullptr),
      store_(cluster_ ? static_cast<RedisRouter&>(*cluster_) : singleNode_, keys_,
             settings_.historySize, settings_.ackReplicas,
             PresenceLimits{settings_.presenceListMax, settings_.presenceEventsMax}),
      bus_(loop, settings_.redis, "chat-gw:" + settings_.gatewayId + ":sub", keys_,
           settings_.redisTimeout),
      clusterBus_(cluster_ ? std::make_unique<ClusterBus>(*cluster_, keys_) : nullptr),
      hub_(loop, clusterBus_ ? static_cast<Bus&>(*clusterBus_) : bus_, store_,
           settings_.historyOnJoin, slot_.hub, HubTiming{},
           PresenceLimits{settings_.presenceListMax, settings_.presenceEventsMax}),
      presence_(loop, store_, settings_.gatewayId, settings_.presenceTtl),
      chat_(
          settings_, store_, hub_, presence_, stats_,
          [this](std::uint64_t id) { return findConnection(id); }, [this] { return ready(); },
          [loop] { return uv_now(loop); }),
      api_(settings_, store_, stats_),
      admission_(settings_),
      connections_(slot_.plainConnections, slot_.v1Connections),
      reporter_(
          loop, board_, slot_, [this] { return health(); },
          [this] {
            std::int64_t queued = 0;
            connections_.forEach([&](const Connection& connection) {
              queued += static_cast<std::int64_t>(connection.queuedBytes());
            });
            return queued;
          }),
      closeTimer_(loop),
      drainTimer_(loop),
      subscriberWatch_(loop),
      tokenSweep_(loop),
      memoryTrim_(loop),
      sigterm_(loop, SIGTERM, [this] { drain(); }),
      sigint_(loop, SIGINT, [this] { drain(); }) {
  routes_
      .exact("/config.json",
             [this](lws* wsi, Session&, std::string_view) {
               // What the bundled page needs to log in (docs/protocol.md section 10).
               std::string body = R"({"auth":)";
               body += settings_.tokenKeys().required() ? "true" : "false";
               body += R"(,"token_url":)";
               body += settings_.tokenUrl.empty() ? "null" : "\"" + settings_.tokenUrl + "\"";
               body += R"(,"auth_cookie":)";
               body += settings_.authCookie.empty() ? "false" : "true";
               body += "}\n";
               return respondText(wsi, 200, body, "application/json");
             })
      .exact("/healthz",
             [](lws* wsi, Session&, std::string_view) { return respondText(wsi, 200, "ok\n"); })
      .exact("/readyz",
             [this](lws* wsi, Session&, std::string_view) {
               const auto problem = reporter_.gatewayProblem(readinessProblem());
               return problem.empty() ? respondText(wsi, 200, "ready" + degradedNote() + "\n")
                                      : respondText(wsi, 503, problem + "\n");
             })
      .exact("/metrics",
             [this](lws* wsi, Session&, std::string_view) {
               const MetricsTotals totals =
                   reporter_.totals(reporter_.gatewayProblem(readinessProblem()).empty());
               return respondText(wsi, 200, renderMetrics(totals), kMetricsContentType);
             })
      .exact(std::string(kWebSocketPath),
             [](lws* wsi, Session&, std::string_view) {
               return respondText(wsi, 400,
                                  "this is a WebSocket endpoint: send an Upgrade request\n");
             })
      .prefix("/api/",
              [this](lws* wsi, Session& session, std::string_view path) {
                return api_.onRequest(wsi, session.http, path);
              })
      .fallback([this](lws* wsi, Session&, std::string_view path) {
        return serveStatic(wsi, settings_.staticDir, path);
      });
  connectionLimits_.rawFraming = !settings_.compression;
  // permessage-deflate may leave a message half sent for lws to drain from
  // WRITEABLE; a direct write in between would split it.
  if (!settings_.compression) connectionLimits_.writes = &writes_;
  // Under load, what Redis has already sent joins this pass: more messages
  // per send to each client, and fewer passes.
  writes_.setBeforeFlush([this] {
    if (cluster_) {
      cluster_->readPending(kReadAheadReads);
      return;
    }
    bus_.readPending(kReadAheadReads);
    commands_.readPending(kReadAheadReads);
  });
  bus_.setOnReadinessChange([this] { reporter_.publish(false); });
  // Operator commands every gateway carries out (docs/protocol.md section 10).
  const auto onControl = [this](std::string_view payload) { onControlMessage(payload); };
  bus_.setControlHandler(onControl);
  if (clusterBus_) clusterBus_->setControlHandler(onControl);
  chat_.setOnStoreDone([this] {
    if (draining_) finishDrainIfIdle();
  });
}

Server::~Server() {
  teardown();
}

bool Server::start() {
  EndpointOptions options;
  options.port = settings_.port;
  options.pingInterval = wholeSeconds(settings_.pingInterval);
  options.pingTimeout = wholeSeconds(settings_.pingTimeout);
  options.compression = settings_.compression;
  options.sharePort = settings_.workers > 1;
  options.maxBody = settings_.maxFrameBytes;
  endpoint_ = std::make_unique<WsEndpoint>(loop_, options, *this);
  if (!endpoint_->ok()) {
    teardown();
    return false;
  }
  if (settings_.redis.tls && !cluster_) {  // a cluster has a tunnel per node
    tls_ = std::make_unique<TlsTunnel>(
        loop_, TlsOptions{settings_.redis.host, settings_.redis.port, settings_.redisTlsVerify,
                          settings_.redisTlsCa});
    std::string error;
    if (!tls_->start(error)) {
      Log::error("redis_tls_failed", {{"detail", error}});
      teardown();
      return false;
    }
    commands_.connectVia(tls_->socketPath());
    bus_.connectVia(tls_->socketPath());
  }
  if (cluster_) {
    clusterBus_->setListener(hub_);
    cluster_->start({.onCommandLinkUp =
                         [this](RedisConnection& link) {
                           store_.loadScripts(link);
                           presence_.refreshAll();
                         },
                     .onHealthChange = [this] { reporter_.publish(false); }},
                    *clusterBus_);
  } else {
    commands_.start();
    bus_.start(hub_);
    if (settings_.redis.sentinel) {
      sentinelWatch_ = std::make_unique<SentinelWatch>(
          loop_, settings_.redis, "chat-gw:" + settings_.gatewayId + ":sentinel",
          settings_.redisTimeout, [this](const std::string&) {
            // Both links reconnect, asking the sentinels where the primary is.
            commands_.drop("sentinel switched the primary");
            bus_.drop("sentinel switched the primary");
          });
      sentinelWatch_->start();
    }
    subscriberWatch_.every(settings_.redisTimeout / 2, [this] { watchSubscriberLink(); });
  }
  reporter_.start();
  if (settings_.jwksRing) {
    jwks_ = std::make_unique<JwksFetcher>(loop_, settings_.authJwksUrl, settings_.jwksRing);
    jwks_->start();
  }
  if (settings_.tokenKeys().required()) {
    // Tokens expire on open connections; an `auth` frame has 5 s to come.
    tokenSweep_.every(std::chrono::seconds(1), [this] {
      const std::int64_t now = common::unixSeconds();
      const std::uint64_t nowMs = uv_now(loop_);
      connections_.forEach(
          [&](Connection& connection) { chat_.closeIfUnauthenticated(connection, now, nowMs); });
    });
  }
  Log::info("listening", {{"port", std::to_string(port())},
                          {"redis", settings_.redis.redacted()},
                          {"static_dir", settings_.staticDir}});
  return true;
}

std::string Server::readinessProblem() const {
  const WorkerProblem problem = health().problem;
  return problem == WorkerProblem::kNone ? std::string() : std::string(describe(problem));
}

void Server::onControlMessage(std::string_view payload) {
  const auto username = common::parseDisconnectCommand(payload);
  if (!username) return;
  std::size_t closed = 0;
  connections_.forEach([&](Connection& connection) {
    if (connection.username() != *username) return;
    connection.closeSoon(common::CloseCode::kDisconnected, "disconnected");
    ++closed;
  });
  Log::info("user_disconnected",
            {{"username", *username}, {"connections", std::to_string(closed)}});
}

std::string Server::degradedNote() const {
  if (!cluster_) return {};
  const std::string down = cluster_->downShards();
  return down.empty() ? std::string()
                      : "; cluster shards down (their rooms are unavailable): " + down;
}

bool Server::ready() const {
  return readinessProblem().empty();
}

void Server::watchSubscriberLink() {
  if (!commands_.isUp() || !bus_.ready()) {
    heartbeatSentAt_ = 0;
    return;
  }
  const std::uint64_t now = uv_now(loop_);
  if (heartbeatSentAt_ != 0 && bus_.lastHeartbeatAt() < heartbeatSentAt_) {
    // Redis took the heartbeat (the command link is up) but this link never
    // delivered it: it is dead without having closed.
    if (now - heartbeatSentAt_ > static_cast<std::uint64_t>(settings_.redisTimeout.count())) {
      heartbeatSentAt_ = 0;
      bus_.drop("no heartbeat within REDIS_TIMEOUT");
    }
    return;
  }
  heartbeatSentAt_ = now;
  commands_.command({"PUBLISH", bus_.heartbeatChannel(), "1"}, [](redisReply*) {});
}

WorkerHealth Server::health() const {
  WorkerHealth h;
  if (draining_ || board_.draining()) h.problem = WorkerProblem::kDraining;
  if (cluster_) {
    // Ready while any shard serves: every gateway sees the same shards, so
    // leaving the load balancer would not help the rooms of one that is down.
    h.commandsUp = cluster_->anyCommandLinkUp();
    h.subscriberUp = clusterBus_->ready();
    h.commandReconnects = cluster_->commandReconnects();
    h.subscriberReconnects = cluster_->subscriberReconnects();
    h.shards = cluster_->shardCount();
    h.shardsUp = cluster_->shardsUp();
  } else {
    h.commandsUp = commands_.isUp();
    h.subscriberUp = bus_.connected();
    h.commandReconnects = commands_.reconnects();
    h.subscriberReconnects = bus_.reconnects();
  }
  const bool subscribed = cluster_ ? h.subscriberUp : bus_.ready();
  if (h.problem == WorkerProblem::kNone && !h.commandsUp)
    h.problem = WorkerProblem::kCommandsDown;
  else if (h.problem == WorkerProblem::kNone && !subscribed)
    h.problem = WorkerProblem::kSubscriberDown;
  else if (h.problem == WorkerProblem::kNone && jwks_ && !jwks_->loaded())
    h.problem = WorkerProblem::kAuthKeysMissing;
  return h;
}

Connection* Server::findConnection(std::uint64_t id) {
  return connections_.find(id);
}

// ---- HTTP -------------------------------------------------------------------

int Server::onHttp(lws* wsi, Session& session, std::string_view path) {
  return routes_.dispatch(wsi, session, path);
}

void Server::onHttpBody(Session& session, const void* data, std::size_t len) {
  api_.onBody(session.http, data, len);
}

int Server::onHttpBodyComplete(lws* wsi, Session& session) {
  return api_.onBodyComplete(wsi, session.http);
}

int Server::onHttpWritable(lws* wsi, Session& session) {
  return api_.onWritable(wsi, session.http);
}

void Server::onHttpClosed(Session& session) {
  api_.onClosed(session.http);
}

// ---- WebSocket lifecycle ------------------------------------------------------

bool Server::onNetworkConnection() {
  return !draining_;
}

void Server::onBufferedRequest(const BufferedRequest& request, RequestGate::Respond respond) {
  if (!RestApi::handles(request.path) || request.method != "POST") {
    onRequestRefused(405);
    respond(405, "text/plain; charset=utf-8",
            "a request body is taken only by POST /api/rooms/{room}/messages\n");
    return;
  }
  api_.postBuffered(request.path, request.authorization, request.body,
                    [respond = std::move(respond)](unsigned status, std::string body) {
                      respond(status, "application/json", body);
                    });
}

void Server::onRequestRefused(unsigned status) {
  stats_.refuse(common::Refusal::kBadRequest);
  Log::info("request_refused", {{"status", std::to_string(status)}});
}

HandshakeRequest Server::handshakeOf(lws* wsi) const {
  HandshakeRequest r;
  r.path = requestHeader(wsi, WSI_TOKEN_GET_URI);
  r.key = requestHeader(wsi, WSI_TOKEN_KEY);
  r.version = requestHeader(wsi, WSI_TOKEN_VERSION);
  r.subprotocols = requestHeader(wsi, WSI_TOKEN_PROTOCOL);
  r.origin = requestHeader(wsi, WSI_TOKEN_ORIGIN);
  r.host = requestHeader(wsi, WSI_TOKEN_HOST);
  r.room = queryArg(wsi, "room");
  r.username = queryArg(wsi, "username");
  r.since = queryArg(wsi, "since");
  r.epoch = queryArg(wsi, "epoch");
  r.token = queryArg(wsi, "token");
  if (!settings_.authCookie.empty())
    r.cookieToken =
        common::cookieValue(requestHeader(wsi, WSI_TOKEN_HTTP_COOKIE), settings_.authCookie);
  return r;
}

bool Server::onUpgradeRequest(lws* wsi) {
  AdmissionState state;
  state.notReady = readinessProblem();
  state.connections = connections_.size();
  // The per-IP cap's key, read once here and kept with the admission.
  std::string peer;
  if (settings_.maxConnectionsPerIp > 0) {
    peer = peerAddress(wsi, settings_.trustedProxyHeader);
    state.connectionsFromPeer = connections_.connectionsFrom(peer);
  }
  state.nowSeconds = common::unixSeconds();
  auto admission = std::make_unique<Admission>(admission_.admit(handshakeOf(wsi), state));
  if (!admission->admitted()) {
    if (admission->counted) stats_.refuse(*admission->counted);
    if (admission->status == 401 || admission->status == 403)
      Log::info("handshake_refused",
                {{"status", std::to_string(admission->status)}, {"why", admission->reason}});
    refuseUpgrade(wsi, admission->status, admission->reason);
    return false;
  }
  admission->peerKey = std::move(peer);
  // Kept on the wsi until ESTABLISHED (or freed when the wsi goes first).
  lws_set_opaque_user_data(wsi, admission.release());
  return true;
}

void Server::onWsiDestroyed(lws* wsi) {
  delete static_cast<Admission*>(lws_get_opaque_user_data(wsi));
  lws_set_opaque_user_data(wsi, nullptr);
}

void Server::onEstablished(lws* wsi, Session& session, bool v1) {
  std::unique_ptr<Admission> admission(static_cast<Admission*>(lws_get_opaque_user_data(wsi)));
  lws_set_opaque_user_data(wsi, nullptr);
  if (!admission) {
    // Cannot happen: every upgrade passes onUpgradeRequest first.
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return;
  }
  const std::uint64_t id = nextConnectionId_++;
  std::string username = std::move(admission->username);
  if (v1 && username.empty() && !admission->awaitingAuth) username = guestName();
  auto created = std::make_unique<Connection>(wsi, id, v1 ? ClientKind::kV1 : ClientKind::kPlain,
                                              std::move(username), connectionLimits_, *this,
                                              settings_.rateBurst, uv_now(loop_));
  if (admission->allowedRooms) created->setAllowedRooms(std::move(*admission->allowedRooms));
  if (!admission->peerKey.empty()) created->setPeerKey(std::move(admission->peerKey));
  if (admission->tokenExpiresAt != 0) created->setTokenExpiresAt(admission->tokenExpiresAt);
  Connection& connection = connections_.add(std::move(created));
  session.connection = &connection;
  ++stats_.connectionsOpened;
  Log::debug(
      "ws_open",
      {{"conn", std::to_string(id)}, {"room", admission->join.room}, {"v1", v1 ? "1" : "0"}});
  chat_.onOpen(connection, admission->join, admission->awaitingAuth);
}

void Server::onReceive(Session& session, const void* data, std::size_t len) {
  if (session.connection != nullptr) session.connection->onReceive(data, len);
}

bool Server::onWritable(Session& session) {
  Connection* connection = session.connection;
  if (connection == nullptr) return true;
  switch (connection->onWritable()) {
    case Connection::WriteResult::kOk:
      return true;
    case Connection::WriteResult::kFailed:
      return false;
    case Connection::WriteResult::kCloseRequested:
      queueClose(*connection);
      return true;
  }
  return false;
}

void Server::flush(Connection& connection) {
  switch (connection.flush()) {
    case Connection::WriteResult::kOk:
      return;
    case Connection::WriteResult::kFailed:
      // The socket is dead; lws frees it on its next timer pass (outside this loop).
      lws_set_timeout(connection.wsi(), PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      if (endpoint_) endpoint_->rearmTimers();
      return;
    case Connection::WriteResult::kCloseRequested:
      queueClose(connection);
      return;
  }
}

void Server::onPeerClosing(Session& session) {
  if (session.connection != nullptr) session.connection->onPeerClosing();
}

void Server::queueClose(const Connection& connection) {
  closeQueue_.push_back(connection.id());
  if (!closeTimer_.active())
    closeTimer_.once(std::chrono::milliseconds(0), [this] { closeQueued(); });
}

void Server::closeQueued() {
  auto ids = std::move(closeQueue_);
  closeQueue_.clear();
  // Looked up again: a connection may have gone since it was queued.
  for (std::uint64_t id : ids) {
    if (Connection* connection = findConnection(id)) connection->closeNow();
  }
  if (endpoint_) endpoint_->rearmTimers();  // lws' close timeouts start now
}

void Server::onClosed(Session& session) {
  Connection* connection = session.connection;
  if (connection == nullptr) return;
  session.connection = nullptr;
  chat_.onClose(*connection);
  Log::debug("ws_close", {{"conn", std::to_string(connection->id())}});
  connections_.remove(*connection);
  if (draining_) finishDrainIfIdle();
}

void Server::onSlowConsumer(Connection& connection) {
  ++stats_.slowConsumers;
  Log::warn("slow_consumer", {{"conn", std::to_string(connection.id())}});
  // Closed without waiting for WRITEABLE: its socket is full and may never
  // drain. lws gives the close frame at most 5 s, then drops the socket.
  queueClose(connection);
}

void Server::onRoomForHistory(Connection& connection) {
  for (Membership* m : connection.memberships())
    hub_.resumeReplay(m);
}

void Server::onClientText(Connection& connection, std::string_view text) {
  chat_.onText(connection, text);
}

// ---- Shutdown -------------------------------------------------------------------

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  chat_.startDraining();
  // Refused at once, new connections go to another gateway.
  if (endpoint_) endpoint_->stopAccepting();
  Log::info("draining", {{"connections", std::to_string(connections_.size())},
                         {"stores_in_flight", std::to_string(chat_.storesInFlight())}});
  reporter_.publish(false);
  drainTimer_.once(settings_.shutdownTimeout, [this] {
    Log::warn("drain_timeout", {{"connections", std::to_string(connections_.size())}});
    teardown();
  });
  finishDrainIfIdle();
}

void Server::finishDrainIfIdle() {
  if (!draining_ || tornDown_) return;
  if (chat_.storesInFlight() > 0) return;  // their answers still go out first
  if (!connections_.empty()) {
    connections_.forEach([](Connection& connection) {
      connection.closeSoon(common::CloseCode::kGoingAway, "going away");
    });
    return;
  }
  // Every client has gone; their presence leaves were sent. Redis answers in
  // order, so once a PING comes back they are done: then stop.
  if (flushingPresence_) return;
  flushingPresence_ = true;
  if (cluster_)
    cluster_->flush([this] { teardown(); });
  else if (!commands_.command({"PING"}, [this](redisReply*) { teardown(); }))
    teardown();
}

void Server::teardown() {
  if (tornDown_) return;
  tornDown_ = true;
  drainTimer_.stop();
  closeTimer_.stop();
  subscriberWatch_.stop();
  tokenSweep_.stop();
  memoryTrim_.stop();
  if (jwks_) jwks_->stop();
  reporter_.stop();
  if (endpoint_) {
    Log::info("stopping");
    // lws closes every connection (onClosed runs for each) and then its handles.
    endpoint_->destroy();
  }
  hub_.stop();
  presence_.stop();
  if (sentinelWatch_) sentinelWatch_->stop();
  bus_.stop();
  commands_.stop();
  if (cluster_) cluster_->stop();
  if (tls_) tls_->stop();
}

}  // namespace chat::gateway
