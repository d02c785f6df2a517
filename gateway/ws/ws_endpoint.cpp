#include "ws/ws_endpoint.h"

#include <unistd.h>

#include <cstring>

#include "log/log.h"

namespace chat::gateway {
namespace {

void logFromLws(int level, const char* line) {
  std::string_view text(line);
  // lws 4.1 logs each readbuf adoption (RequestGate) at error level.
  if (text.find("adopt_socket_readbuf: calling service") != std::string_view::npos) return;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  if (level & LLL_ERR)
    Log::error("lws", {{"detail", text}});
  else if (level & LLL_WARN)
    Log::warn("lws", {{"detail", text}});
  else
    Log::debug("lws", {{"detail", text}});
}

}  // namespace

WsEndpoint::WsEndpoint(uv_loop_t* loop, const EndpointOptions& options, EndpointHandler& handler)
    : handler_(handler),
      gate_(
          loop, RequestGate::Options{.maxBody = options.maxBody},
          [this](int fd, const std::string& readBytes) {
            if (vhost_ == nullptr || destroying_) {
              ::close(fd);
              return;
            }
            // lws closes the fd itself when adoption fails.
            if (readBytes.empty())
              lws_adopt_socket_vhost(vhost_, fd);
            else
              lws_adopt_socket_vhost_readbuf(vhost_, fd, readBytes.data(), readBytes.size());
          },
          [this](unsigned status) { handler_.onRequestRefused(status); },
          [this](const BufferedRequest& request, RequestGate::Respond respond) {
            handler_.onBufferedRequest(request, std::move(respond));
          }),
      listener_(loop, [this](int fd) {
        if (vhost_ == nullptr || destroying_ || !handler_.onNetworkConnection()) {
          ::close(fd);
          return;
        }
        gate_.onAccepted(fd);
      }) {
  lws_set_log_level(LLL_ERR | LLL_WARN, logFromLws);

  // lws pings a connection idle for pingInterval and drops one that has shown
  // no sign of life for pingTimeout.
  retryPolicy_.secs_since_valid_ping = static_cast<uint16_t>(options.pingInterval.count());
  retryPolicy_.secs_since_valid_hangup = static_cast<uint16_t>(options.pingTimeout.count());

  // protocols_[0] serves HTTP and plain WebSocket clients (no subprotocol).
  protocols_[0].name = "chat-plain";
  protocols_[0].callback = callback;
  protocols_[0].per_session_data_size = sizeof(Session);
  protocols_[0].rx_buffer_size = options.rxBufferSize;
  // Without this lws caps each send() at the receive buffer size.
  protocols_[0].tx_packet_size = 64 * 1024;
  // protocols_[1] is chosen by lws when the client offers "chat.v1"; a client
  // that offers only unknown subprotocols is refused by lws itself.
  protocols_[1] = protocols_[0];
  protocols_[1].name = kV1Subprotocol;

  foreignLoops_[0] = loop;
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols_;
  info.user = &handler_;
  info.pcontext = &context_;
  // Explicit vhosts: a failed bind then leaves a usable context to destroy,
  // instead of one that lws is already tearing down.
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_LIBUV |
                 LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
  info.foreign_loops = foreignLoops_;
  info.retry_and_idle_policy = &retryPolicy_;
  info.timeout_secs = 10;  // handshake and HTTP transaction deadline
  info.timeout_secs_ah_idle = 10;
  // Header tables are lent to connections still sending their request; with
  // lws' default of a few, a handful of slow senders would lock everyone out.
  info.max_http_header_pool = 4096;
  if (options.compression) {
    extensions_[0].name = "permessage-deflate";
    extensions_[0].callback = lws_extension_callback_pm_deflate;
    extensions_[0].client_offer = "permessage-deflate; client_max_window_bits";
    info.extensions = extensions_;
  }

  context_ = lws_create_context(&info);
  if (context_ == nullptr) return;
  // The vhost serves sockets our Listener accepts; lws itself listens on none.
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
  info.vhost_name = "default";
  vhost_ = lws_create_vhost(context_, &info);
  if (vhost_ == nullptr) return;
  std::string error;
  listening_ = listener_.listen(options.port, options.sharePort, error);
  if (!listening_)
    Log::error("listen_failed", {{"port", std::to_string(options.port)}, {"detail", error}});
}

WsEndpoint::~WsEndpoint() {
  destroy();
  if (context_ != nullptr) lws_context_destroy(context_);
}

void WsEndpoint::destroy() {
  if (context_ == nullptr || destroying_) return;
  destroying_ = true;
  vhost_ = nullptr;
  listener_.close();
  gate_.closeAll();
  lws_context_destroy(context_);
}

void WsEndpoint::rearmTimers() {
  if (context_ != nullptr && !destroying_) lws_cancel_service(context_);
}

int WsEndpoint::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                         std::size_t len) {
  lws_context* context = lws_get_context(wsi);
  auto* handler =
      context != nullptr ? static_cast<EndpointHandler*>(lws_context_user(context)) : nullptr;
  auto* session = static_cast<Session*>(user);
  if (handler == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  // No exception may unwind through lws' C frames: it closes this connection only.
  try {
    switch (reason) {
      case LWS_CALLBACK_HTTP:
        return handler->onHttp(wsi, *session, std::string_view(static_cast<const char*>(in)));
      case LWS_CALLBACK_HTTP_BODY:
        handler->onHttpBody(*session, in, len);
        return 0;
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return handler->onHttpBodyComplete(wsi, *session);
      case LWS_CALLBACK_HTTP_WRITEABLE:
        return handler->onHttpWritable(wsi, *session);
      case LWS_CALLBACK_CLOSED_HTTP:
        if (session != nullptr) handler->onHttpClosed(*session);
        return 0;
      case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
      case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return handler->onUpgradeRequest(wsi) ? 0 : 1;
      case LWS_CALLBACK_ESTABLISHED:
        session->connection = nullptr;
        session->http = nullptr;
        handler->onEstablished(wsi, *session,
                               std::strcmp(lws_get_protocol(wsi)->name, kV1Subprotocol) == 0);
        return 0;
      case LWS_CALLBACK_RECEIVE:
        handler->onReceive(*session, in, len);
        return 0;
      case LWS_CALLBACK_SERVER_WRITEABLE:
        return handler->onWritable(*session) ? 0 : -1;
      case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        handler->onPeerClosing(*session);
        return 0;
      case LWS_CALLBACK_CLOSED:
        handler->onClosed(*session);
        return 0;
      case LWS_CALLBACK_WSI_DESTROY:
        handler->onWsiDestroyed(wsi);
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  } catch (const std::exception& e) {
    Log::error("callback_failed",
               {{"reason", std::to_string(static_cast<int>(reason))}, {"what", e.what()}});
    return -1;
  }
}

}  // namespace chat::gateway
