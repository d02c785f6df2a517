#include "server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <random>

#include "auth/token_verifier.h"
#include "http/http_response.h"
#include "log/log.h"
#include "metrics/metrics_page.h"
#include "metrics/process_metrics.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "util/query.h"

namespace chat::gateway {
namespace {

constexpr std::string_view kWebSocketPath = "/websocket";

std::chrono::seconds wholeSeconds(std::chrono::milliseconds ms) {
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(ms));
}

bool isRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<std::uint64_t> parseId(const std::string& s) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() ||
      value > (std::uint64_t{1} << 53))
    return std::nullopt;
  return value;
}

bool isEpoch(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// True when the comma-separated Sec-WebSocket-Protocol list names `wanted`.
bool offersSubprotocol(std::string_view offered, std::string_view wanted) {
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    std::string_view name = offered.substr(0, comma);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name == wanted) return true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return false;
}

std::string guestName() {
  static std::mt19937 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "guest-";
  for (int i = 0; i < 4; ++i)
    name += kHex[rng() % 16];
  return name;
}

// Socket reads of Redis input taken in before each write pass (16 KiB each).
constexpr int kReadAheadReads = 4;

// Readiness reaches the other workers within a beat; gauges and the process
// sample every kBeatsPerSample beats. A worker silent for kStaleAfter is hung.
constexpr std::chrono::milliseconds kBeat{100};
constexpr unsigned kBeatsPerSample = 10;
constexpr std::chrono::milliseconds kStaleAfter{5000};

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
                       store_.onConnectionUp();
                       // Entries may have expired while Redis was away.
                       presence_.refreshAll();
                     },
                 .onDown = {}}),
      store_(commands_, keys_, settings_.historySize),
      bus_(loop, settings_.redis, "chat-gw:" + settings_.gatewayId + ":sub", keys_),
      hub_(loop, bus_, store_, settings_.historyOnJoin, slot_.hub),
      presence_(loop, store_, settings_.gatewayId, settings_.presenceTtl),
      chat_(
          settings_, store_, hub_, presence_, stats_,
          [this](std::uint64_t id) { return findConnection(id); }, [this] { return ready(); },
          [loop] { return uv_now(loop); }),
      api_(settings_, store_, stats_),
      closeTimer_(loop),
      drainTimer_(loop),
      heartbeat_(loop),
      sigterm_(loop, SIGTERM, [this] { drain(); }),
      sigint_(loop, SIGINT, [this] { drain(); }) {
  std::string ignored;  // validated when the settings were loaded
  common::parseOriginPolicy(settings_.allowedOrigins, originPolicy_, ignored);
  connectionLimits_.rawFraming = !settings_.compression;
  // permessage-deflate may leave a message half sent for lws to drain from
  // WRITEABLE; a direct write in between would split it.
  if (!settings_.compression) connectionLimits_.writes = &writes_;
  // Under load, what Redis has already sent joins this pass: more messages
  // per send to each client, and fewer passes.
  writes_.setBeforeFlush([this] {
    bus_.readPending(kReadAheadReads);
    commands_.readPending(kReadAheadReads);
  });
  chat_.setOnStoreDone([this] {
    if (draining_) finishDrainIfIdle();
  });
  slot_.claim(static_cast<std::int32_t>(::getpid()));
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
  if (settings_.redis.tls) {
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
  commands_.start();
  bus_.start(hub_);
  publish(true);
  heartbeat_.every(kBeat, [this] { publish(++beats_ % kBeatsPerSample == 0); });
  Log::info("listening", {{"port", std::to_string(port())},
                          {"redis", settings_.redis.redacted()},
                          {"static_dir", settings_.staticDir}});
  return true;
}

std::string Server::readinessProblem() const {
  if (draining_ || board_.draining()) return "draining";
  if (!commands_.isUp()) return "redis command connection down";
  if (!bus_.ready()) return "redis subscriber connection down";
  return {};
}

bool Server::ready() const {
  return readinessProblem().empty();
}

std::string Server::gatewayReadinessProblem() const {
  // This worker's own state is fresh; the others' is at most one beat old.
  if (auto problem = readinessProblem(); !problem.empty()) return problem;
  return board_.problem(monotonicMs(), kStaleAfter.count());
}

void Server::publish(bool full) {
  WorkerProblem problem = WorkerProblem::kNone;
  if (draining_ || board_.draining())
    problem = WorkerProblem::kDraining;
  else if (!commands_.isUp())
    problem = WorkerProblem::kCommandsDown;
  else if (!bus_.ready())
    problem = WorkerProblem::kSubscriberDown;
  slot_.problem.store(problem);
  slot_.commandsUp.set(commands_.isUp() ? 1 : 0);
  slot_.subscriberUp.set(bus_.connected() ? 1 : 0);
  slot_.heartbeatMs.store(monotonicMs());
  if (!full) return;
  std::int64_t queued = 0;
  for (const auto& [id, connection] : connections_)
    queued += static_cast<std::int64_t>(connection->queuedBytes());
  slot_.queuedBytes.set(queued);
  // Reconnects and CPU count per process: the slot adds the deltas, so the
  // totals carry on across a worker's replacement.
  slot_.commandReconnects.add(commands_.reconnects() - publishedCommandReconnects_);
  publishedCommandReconnects_ = commands_.reconnects();
  slot_.subscriberReconnects.add(bus_.reconnects() - publishedSubscriberReconnects_);
  publishedSubscriberReconnects_ = bus_.reconnects();
  const ProcessSample process = readProcessSample();
  slot_.cpuSeconds.add(std::max(0.0, process.cpuSeconds - publishedCpuSeconds_));
  publishedCpuSeconds_ = std::max(publishedCpuSeconds_, process.cpuSeconds);
  slot_.residentBytes.set(static_cast<std::int64_t>(process.residentBytes));
  slot_.virtualBytes.set(static_cast<std::int64_t>(process.virtualBytes));
  slot_.openFds.set(static_cast<std::int64_t>(process.openFds));
  slot_.maxFds.set(static_cast<std::int64_t>(process.maxFds));
  slot_.startTimeSeconds.set(static_cast<std::int64_t>(process.startTimeSeconds));
}

Connection* Server::findConnection(std::uint64_t id) {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

// ---- HTTP -------------------------------------------------------------------

int Server::onHttp(lws* wsi, Session& session, std::string_view path) {
  if (path == "/healthz") return respondText(wsi, 200, "ok\n");
  if (path == "/readyz") {
    const auto problem = gatewayReadinessProblem();
    return problem.empty() ? respondText(wsi, 200, "ready\n")
                           : respondText(wsi, 503, problem + "\n");
  }
  if (path == "/metrics") {
    publish(true);
    MetricsTotals totals = sumWorkers(board_);
    totals.ready = gatewayReadinessProblem().empty();
    return respondText(wsi, 200, renderMetrics(totals), kMetricsContentType);
  }
  if (path == kWebSocketPath)
    return respondText(wsi, 400, "this is a WebSocket endpoint: send an Upgrade request\n");
  if (RestApi::handles(path)) return api_.onRequest(wsi, session.http, path);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
      lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
    return respondText(wsi, 405, "method not allowed\n");
  return serveStatic(wsi, path);
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

int Server::serveStatic(lws* wsi, std::string_view path) {
  if (!common::isSafeStaticPath(path)) return respondText(wsi, 404, "not found\n");
  std::string file = settings_.staticDir + std::string(path);
  if (path.back() == '/') file += "index.html";
  if (!isRegularFile(file)) return respondText(wsi, 404, "not found\n");
  return serveFile(wsi, file, common::mimeTypeFor(file));
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

std::string Server::checkUpgradeQuery(lws* wsi) const {
  if (!common::normalizeRoom(queryArg(wsi, "room").value_or("")))
    return "bad room name: use 1-64 of A-Z a-z 0-9 _ . -";
  if (const auto username = queryArg(wsi, "username"); username && !username->empty()) {
    if (common::checkUsername(*username).refusal)
      return "bad username: 1-32 characters, no control characters";
  }
  if (const auto since = queryArg(wsi, "since"); since && !parseId(*since))
    return "since must be a message id";
  return {};
}

bool Server::onUpgradeRequest(lws* wsi) {
  const std::string path = requestHeader(wsi, WSI_TOKEN_GET_URI);
  if (path != kWebSocketPath) {
    refuseUpgrade(wsi, 404, "not found");
    return false;
  }
  // lws would drop (or even accept) a malformed upgrade without a word.
  if (requestHeader(wsi, WSI_TOKEN_KEY).empty() || requestHeader(wsi, WSI_TOKEN_VERSION) != "13") {
    refuseUpgrade(wsi, 400, "bad WebSocket upgrade: needs Sec-WebSocket-Key and version 13");
    return false;
  }
  // Likewise a client offering only unknown subprotocols: say why.
  const std::string offered = requestHeader(wsi, WSI_TOKEN_PROTOCOL);
  if (!offered.empty() && !offersSubprotocol(offered, kV1Subprotocol)) {
    refuseUpgrade(wsi, 400, "unsupported subprotocol: this gateway speaks chat.v1");
    return false;
  }
  if (const auto problem = checkUpgradeQuery(wsi); !problem.empty()) {
    stats_.refuse(common::Refusal::kBadUpgrade);
    refuseUpgrade(wsi, 400, problem);
    return false;
  }
  if (!common::originAllowed(originPolicy_, requestHeader(wsi, WSI_TOKEN_ORIGIN),
                             requestHeader(wsi, WSI_TOKEN_HOST))) {
    stats_.refuse(common::Refusal::kBadOrigin);
    refuseUpgrade(wsi, 403, "origin not allowed");
    return false;
  }
  if (std::string why; const unsigned status = checkToken(wsi, why)) {
    stats_.refuse(status == 401 ? common::Refusal::kBadToken : common::Refusal::kForbiddenRoom);
    Log::info("handshake_refused", {{"status", std::to_string(status)}, {"why", why}});
    refuseUpgrade(wsi, status, why);
    return false;
  }
  if (const auto problem = readinessProblem(); !problem.empty()) {
    refuseUpgrade(wsi, 503, problem);
    return false;
  }
  if (connections_.size() >= settings_.maxConnections) {
    stats_.refuse(common::Refusal::kConnectionLimit);
    refuseUpgrade(wsi, 503, "too many connections");
    return false;
  }
  if (settings_.maxConnectionsPerIp > 0) {
    const auto it = connectionsPerPeer_.find(peerKey(wsi));
    if (it != connectionsPerPeer_.end() && it->second >= settings_.maxConnectionsPerIp) {
      stats_.refuse(common::Refusal::kConnectionLimit);
      refuseUpgrade(wsi, 429, "too many connections from your address");
      return false;
    }
  }
  return true;
}

unsigned Server::checkToken(lws* wsi, std::string& why) const {
  if (settings_.authSecret.empty()) return 0;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto check =
      common::verifyToken(queryArg(wsi, "token").value_or(""), settings_.authSecret, now);
  if (!check.claims) {
    why = check.error;
    return 401;
  }
  const std::string room = *common::normalizeRoom(queryArg(wsi, "room").value_or(""));
  const auto& rooms = check.claims->rooms;
  if (rooms && std::find(rooms->begin(), rooms->end(), room) == rooms->end()) {
    why = "your token does not allow room " + room;
    return 403;
  }
  return 0;
}

std::string Server::peerKey(lws* wsi) const {
  if (!settings_.trustedProxyHeader.empty()) {
    const std::string name = settings_.trustedProxyHeader + ":";
    const int length = lws_hdr_custom_length(wsi, name.c_str(), static_cast<int>(name.size()));
    if (length > 0) {
      std::string value(static_cast<std::size_t>(length) + 1, '\0');
      const int n = lws_hdr_custom_copy(wsi, value.data(), length + 1, name.c_str(),
                                        static_cast<int>(name.size()));
      value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      // The proxy appends the address it saw: the last entry is the one to trust.
      const auto comma = value.rfind(',');
      std::string_view last = comma == std::string::npos
                                  ? std::string_view(value)
                                  : std::string_view(value).substr(comma + 1);
      while (!last.empty() && last.front() == ' ')
        last.remove_prefix(1);
      if (!last.empty()) return std::string(last);
    }
  }
  char address[64] = "";
  lws_get_peer_simple(wsi, address, sizeof address);
  return address;
}

UrlJoin Server::urlJoin(lws* wsi) const {
  // Validated by onUpgradeRequest.
  UrlJoin join;
  join.room = *common::normalizeRoom(queryArg(wsi, "room").value_or(""));
  if (const auto since = queryArg(wsi, "since")) join.request.since = parseId(*since);
  // An epoch that cannot be a room's (stale, foreign) only forgoes recovery.
  join.request.epoch = queryArg(wsi, "epoch").value_or("");
  if (!join.request.epoch.empty() && !isEpoch(join.request.epoch))
    join.request.epoch = std::string(common::kForeignEpoch);
  return join;
}

void Server::onEstablished(lws* wsi, Session& session, bool v1) {
  const std::uint64_t id = nextConnectionId_++;
  std::string username;
  if (v1) {
    const auto given = queryArg(wsi, "username").value_or("");
    username = given.empty() ? guestName() : common::checkUsername(given).username;
  }
  std::optional<std::vector<std::string>> allowedRooms;
  if (!settings_.authSecret.empty()) {
    // Checked by onUpgradeRequest; read again for the claims.
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto check =
        common::verifyToken(queryArg(wsi, "token").value_or(""), settings_.authSecret, now);
    if (check.claims) {
      username = check.claims->subject;  // `sub` wins over ?username=
      allowedRooms = std::move(check.claims->rooms);
    }
  }
  auto* connection =
      new Connection(wsi, id, v1 ? ClientKind::kV1 : ClientKind::kPlain, std::move(username),
                     connectionLimits_, *this, settings_.rateBurst, uv_now(loop_));
  if (allowedRooms) connection->setAllowedRooms(std::move(*allowedRooms));
  if (settings_.maxConnectionsPerIp > 0) {
    connection->setPeerKey(peerKey(wsi));
    ++connectionsPerPeer_[connection->peerKey()];
  }
  session.connection = connection;
  connections_.emplace(id, connection);
  (v1 ? slot_.v1Connections : slot_.plainConnections).add(1);
  ++stats_.connectionsOpened;
  const UrlJoin join = urlJoin(wsi);
  Log::debug("ws_open",
             {{"conn", std::to_string(id)}, {"room", join.room}, {"v1", v1 ? "1" : "0"}});
  chat_.onOpen(*connection, join);
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
  connections_.erase(connection->id());
  (connection->isV1() ? slot_.v1Connections : slot_.plainConnections).add(-1);
  if (!connection->peerKey().empty()) {
    const auto it = connectionsPerPeer_.find(connection->peerKey());
    if (it != connectionsPerPeer_.end() && --it->second == 0) connectionsPerPeer_.erase(it);
  }
  Log::debug("ws_close", {{"conn", std::to_string(connection->id())}});
  delete connection;
  if (draining_) finishDrainIfIdle();
}

void Server::onSlowConsumer(Connection& connection) {
  ++stats_.slowConsumers;
  Log::warn("slow_consumer", {{"conn", std::to_string(connection.id())}});
  // Closed without waiting for WRITEABLE: its socket is full and may never
  // drain. lws gives the close frame at most 5 s, then drops the socket.
  queueClose(connection);
}

void Server::onClientText(Connection& connection, std::string_view text) {
  chat_.onText(connection, text);
}

// ---- Shutdown -------------------------------------------------------------------

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  // Refused at once, new connections go to another gateway.
  if (endpoint_) endpoint_->stopAccepting();
  Log::info("draining", {{"connections", std::to_string(connections_.size())},
                         {"stores_in_flight", std::to_string(chat_.storesInFlight())}});
  publish(false);
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
    for (auto& [id, connection] : connections_)
      connection->closeSoon(common::CloseCode::kGoingAway, "going away");
    return;
  }
  teardown();
}

void Server::teardown() {
  if (tornDown_) return;
  tornDown_ = true;
  drainTimer_.stop();
  closeTimer_.stop();
  heartbeat_.stop();
  if (endpoint_) {
    Log::info("stopping");
    // lws closes every connection (onClosed runs for each) and then its handles.
    endpoint_->destroy();
  }
  hub_.stop();
  presence_.stop();
  bus_.stop();
  commands_.stop();
  if (tls_) tls_->stop();
}

}  // namespace chat::gateway
