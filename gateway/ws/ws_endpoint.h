#pragma once
// The libwebsockets context, running on the gateway's libuv loop as a foreign
// loop, and the one protocol callback that turns lws events into calls on an
// `EndpointHandler`. lws owns its per-connection memory; it holds only a
// Session, which points at our Connection once the WebSocket is established.
// Loop thread only.

#include <libwebsockets.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "http/request_gate.h"
#include "ws/listener.h"

namespace chat::gateway {

class Connection;
struct HttpExchange;

// lws' per-connection user data: zeroed by lws; one of the two is set.
struct Session {
  Connection* connection;  // a WebSocket client, from ESTABLISHED to CLOSED
  HttpExchange* http;      // an API request waiting for its answer
};

class EndpointHandler {
 public:
  virtual ~EndpointHandler() = default;
  // A plain HTTP request; `path` excludes the query. Return as lws expects:
  // 0 to keep the connection, -1 to close it.
  virtual int onHttp(lws* wsi, Session& session, std::string_view path) = 0;
  virtual void onHttpBody(Session& session, const void* data, std::size_t len) = 0;
  virtual int onHttpBodyComplete(lws* wsi, Session& session) = 0;
  virtual int onHttpWritable(lws* wsi, Session& session) = 0;
  virtual void onHttpClosed(Session& session) = 0;
  // An upgrade request, before lws picks a protocol: return true to accept it.
  // To refuse, send a status first (refuseUpgrade) and return false.
  virtual bool onUpgradeRequest(lws* wsi) = 0;
  // `v1`: the client negotiated the chat.v1 subprotocol.
  virtual void onEstablished(lws* wsi, Session& session, bool v1) = 0;
  // Part of a message. Closes go through Connection::closeSoon, never by
  // failing this callback: lws would drop the connection without a close frame.
  virtual void onReceive(Session& session, const void* data, std::size_t len) = 0;
  virtual bool onWritable(Session& session) = 0;
  // The client sent a close frame (lws answers it).
  virtual void onPeerClosing(Session& session) = 0;
  virtual void onClosed(Session& session) = 0;
  // A TCP connection was accepted; false closes it at once.
  virtual bool onNetworkConnection() = 0;
  // lws frees a connection (whatever state it reached): last call for `wsi`.
  virtual void onWsiDestroyed(lws* wsi) = 0;
  // The RequestGate answered a request itself with `status` (a refusal).
  virtual void onRequestRefused(unsigned status) = 0;
  // A request with a chunked body, read whole by the RequestGate.
  virtual void onBufferedRequest(const BufferedRequest& request, RequestGate::Respond respond) = 0;
};

struct EndpointOptions {
  std::uint16_t port = 8080;
  std::chrono::seconds pingInterval{25};
  std::chrono::seconds pingTimeout{60};
  // lws allocates this per connection; larger messages arrive in pieces and
  // are reassembled (Connection::onReceive), so it can stay small. Control
  // frames (at most 125 bytes) must fit whole.
  std::size_t rxBufferSize = 128;
  bool compression = false;    // permessage-deflate
  bool sharePort = false;      // SO_REUSEPORT: several workers on one port
  std::size_t maxBody = 8192;  // a chunked request body is read up to this
};

inline constexpr char kV1Subprotocol[] = "chat.v1";

class WsEndpoint {
 public:
  WsEndpoint(uv_loop_t* loop, const EndpointOptions& options, EndpointHandler& handler);
  ~WsEndpoint();
  WsEndpoint(const WsEndpoint&) = delete;
  WsEndpoint& operator=(const WsEndpoint&) = delete;

  // False when the port could not be bound or the libuv plugin is missing.
  bool ok() const { return vhost_ != nullptr && listening_; }
  // The bound port: the configured one, or the one the kernel chose for 0.
  int port() const { return listener_.port(); }
  // Closes the listening socket: new connections are refused.
  void stopAccepting() { listener_.close(); }
  // lws re-arms its timer only while serving its own events: a timeout set
  // from outside them (a close from our timer, a kill after a direct write)
  // would wait for the next event. This wakes lws so it re-arms now.
  void rearmTimers();
  // Starts destroying the context: lws closes every connection and its uv
  // handles while the loop keeps running. The destructor, called after the
  // loop has run dry, frees what is left (lws 4.1 needs this second call on
  // a foreign loop, and it must not come before its handles have closed).
  void destroy();

 private:
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

  EndpointHandler& handler_;
  lws_retry_bo_t retryPolicy_{};
  lws_protocols protocols_[3]{};  // plain, chat.v1, terminator
  lws_extension extensions_[2]{};
  lws_context* context_ = nullptr;  // cleared by lws once fully freed
  lws_vhost* vhost_ = nullptr;
  bool destroying_ = false;
  bool listening_ = false;
  RequestGate gate_;  // between accept and lws
  Listener listener_;
  void* foreignLoops_[1];
};

}  // namespace chat::gateway
