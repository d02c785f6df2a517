#include "server.h"

#include <sys/stat.h>

#include <csignal>

#include "http/http_response.h"
#include "log/log.h"
#include "protocol/codec.h"
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

}  // namespace

Server::Server(uv_loop_t* loop, common::Settings settings)
    : loop_(loop),
      settings_(std::move(settings)),
      keys_(settings_.redisPrefix),
      connectionLimits_{{settings_.maxQueueBytes, settings_.maxQueueFrames},
                        settings_.maxFrameBytes},
      commands_(loop, settings_.redis, "chat-gw:" + settings_.gatewayId + ":cmd",
                {.onUp = [this] { store_.onConnectionUp(); }, .onDown = {}}),
      store_(commands_, keys_, settings_.historySize),
      bus_(loop, settings_.redis, "chat-gw:" + settings_.gatewayId + ":sub", keys_),
      hub_(loop, bus_, store_, settings_.historyOnJoin),
      closeTimer_(loop),
      drainTimer_(loop),
      sigterm_(loop, SIGTERM, [this] { drain(); }),
      sigint_(loop, SIGINT, [this] { drain(); }) {}

Server::~Server() {
  teardown();
}

bool Server::start() {
  EndpointOptions options;
  options.port = settings_.port;
  options.pingInterval = wholeSeconds(settings_.pingInterval);
  options.pingTimeout = wholeSeconds(settings_.pingTimeout);
  endpoint_ = std::make_unique<WsEndpoint>(loop_, options, *this);
  if (!endpoint_->ok()) {
    Log::error("listen_failed", {{"port", std::to_string(settings_.port)}});
    teardown();
    return false;
  }
  commands_.start();
  bus_.start(hub_);
  Log::info("listening", {{"port", std::to_string(port())},
                          {"redis", settings_.redis.redacted()},
                          {"static_dir", settings_.staticDir}});
  return true;
}

std::string Server::readinessProblem() const {
  if (draining_) return "draining";
  if (!commands_.isUp()) return "redis command connection down";
  if (!bus_.ready()) return "redis subscriber connection down";
  return {};
}

bool Server::ready() const {
  return readinessProblem().empty();
}

Connection* Server::findConnection(std::uint64_t id) {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

// ---- HTTP -------------------------------------------------------------------

int Server::onHttp(lws* wsi, std::string_view path) {
  if (path == "/healthz") return respondText(wsi, 200, "ok\n");
  if (path == "/readyz") {
    const auto problem = readinessProblem();
    return problem.empty() ? respondText(wsi, 200, "ready\n")
                           : respondText(wsi, 503, problem + "\n");
  }
  if (path == kWebSocketPath)
    return respondText(wsi, 400, "this is a WebSocket endpoint: send an Upgrade request\n");
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
      lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
    return respondText(wsi, 405, "method not allowed\n");
  return serveStatic(wsi, path);
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

bool Server::onUpgradeRequest(lws* wsi) {
  const std::string path = requestHeader(wsi, WSI_TOKEN_GET_URI);
  if (path != kWebSocketPath) {
    refuseUpgrade(wsi, 404, "not found");
    return false;
  }
  const auto room = queryArg(wsi, "room");
  if (!common::normalizeRoom(room.value_or(""))) {
    count(common::Refusal::kBadRoom);
    refuseUpgrade(wsi, 400, "bad room name: use 1-64 of A-Z a-z 0-9 _ . -");
    return false;
  }
  if (const auto problem = readinessProblem(); !problem.empty()) {
    refuseUpgrade(wsi, 503, problem);
    return false;
  }
  if (connections_.size() >= settings_.maxConnections) {
    refuseUpgrade(wsi, 503, "too many connections");
    return false;
  }
  return true;
}

void Server::onEstablished(lws* wsi, Session& session) {
  const std::uint64_t id = nextConnectionId_++;
  auto* connection = new Connection(wsi, id, ClientKind::kPlain, connectionLimits_, *this);
  session.connection = connection;
  connections_.emplace(id, connection);
  ++stats_.connectionsOpened;
  // Validated by onUpgradeRequest.
  const auto room = common::normalizeRoom(queryArg(wsi, "room").value_or(""));
  connection->setMembership(hub_.join(*connection, *room));
  Log::debug("ws_open", {{"conn", std::to_string(id)}, {"room", *room}});
}

bool Server::onReceive(Session& session, const void* data, std::size_t len) {
  return session.connection == nullptr || session.connection->onReceive(data, len);
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
      closeQueue_.push_back(connection->id());
      if (!closeTimer_.active())
        closeTimer_.once(std::chrono::milliseconds(0), [this] { closeQueued(); });
      return true;
  }
  return false;
}

void Server::closeQueued() {
  auto ids = std::move(closeQueue_);
  closeQueue_.clear();
  // Looked up again: a connection may have gone since it was queued.
  for (std::uint64_t id : ids) {
    if (Connection* connection = findConnection(id)) connection->closeNow();
  }
}

void Server::onClosed(Session& session) {
  Connection* connection = session.connection;
  if (connection == nullptr) return;
  session.connection = nullptr;
  if (connection->membership() != nullptr) hub_.leave(connection->membership());
  connections_.erase(connection->id());
  Log::debug("ws_close", {{"conn", std::to_string(connection->id())}});
  delete connection;
  if (draining_) finishDrainIfIdle();
}

void Server::onSlowConsumer(Connection& connection) {
  ++stats_.slowConsumers;
  Log::warn("slow_consumer", {{"conn", std::to_string(connection.id())}});
}

// ---- Messages -------------------------------------------------------------------

bool Server::onClientText(Connection& connection, std::string_view text) {
  ++stats_.messagesReceived;
  auto decoded = common::decodePlainFrame(text, settings_.maxTextCodePoints);
  if (decoded.refusal) {
    count(*decoded.refusal);
    // The tutorial page sends empty texts on a bare Enter: ignore them.
    if (*decoded.refusal == common::Refusal::kEmptyText) return true;
    connection.setCloseReason(common::plainCloseCode(*decoded.refusal), decoded.reason);
    return false;
  }
  const std::string body = common::encodeMessageBody(decoded.send->username, decoded.send->text);
  const std::string& room = connection.membership()->room->name;
  const std::uint64_t id = connection.id();
  ++storesInFlight_;
  const bool sent = store_.store(room, body, [this, id](std::optional<StoredAck> ack) {
    --storesInFlight_;
    if (ack) {
      ++stats_.messagesStored;
    } else {
      ++stats_.storeFailures;
      count(common::Refusal::kUnavailable);
      // Never drop a plain client's message silently: it learns by the close.
      if (Connection* c = findConnection(id))
        c->closeSoon(common::CloseCode::kTryAgainLater, "message not stored: redis unavailable");
    }
    if (draining_) finishDrainIfIdle();
  });
  if (!sent) {
    --storesInFlight_;
    count(common::Refusal::kUnavailable);
    connection.setCloseReason(common::CloseCode::kTryAgainLater,
                              "message not stored: redis unavailable");
    return false;
  }
  return true;
}

// ---- Shutdown -------------------------------------------------------------------

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  Log::info("draining", {{"connections", std::to_string(connections_.size())},
                         {"stores_in_flight", std::to_string(storesInFlight_)}});
  drainTimer_.once(settings_.shutdownTimeout, [this] {
    Log::warn("drain_timeout", {{"connections", std::to_string(connections_.size())}});
    teardown();
  });
  finishDrainIfIdle();
}

void Server::finishDrainIfIdle() {
  if (!draining_ || endpoint_ == nullptr) return;
  if (storesInFlight_ > 0) return;  // their answers still go out first
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
  if (endpoint_) {
    Log::info("stopping");
    // lws closes every connection (onClosed runs for each) and then its handles.
    endpoint_->destroy();
  }
  hub_.stop();
  bus_.stop();
  commands_.stop();
}

}  // namespace chat::gateway
