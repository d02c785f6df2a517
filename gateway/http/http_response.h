#pragma once
// Small, complete HTTP responses on an lws connection: a status with a text
// body, a static file, or the refusal of a WebSocket upgrade. Loop thread only.

#include <libwebsockets.h>

#include <optional>
#include <string>
#include <string_view>

namespace chat::gateway {

enum class AfterResponse { kKeepAlive, kClose };

// Sends status, headers and body; returns what the HTTP callback should return.
// kClose says `connection: close` and ends the connection after the body.
// `extraHeader` (name with its colon, and value) is added when its name is set.
struct ExtraHeader {
  std::string name;  // e.g. "x-first-id:"
  std::string value;
};
int respondText(lws* wsi, unsigned status, std::string_view body,
                std::string_view contentType = "text/plain; charset=utf-8",
                AfterResponse after = AfterResponse::kKeepAlive,
                const ExtraHeader& extraHeader = {});

// Serves `file` (which exists) with `contentType`; completion arrives as
// LWS_CALLBACK_HTTP_FILE_COMPLETION. Returns what the HTTP callback should return.
int serveFile(lws* wsi, const std::string& file, std::string_view contentType);

// Answers an upgrade request with `status` instead of 101. The caller then
// returns nonzero from the filter callback and lws closes the connection.
void refuseUpgrade(lws* wsi, unsigned status, std::string_view reason);

// The value of query argument `name` of the current request, or nullopt.
std::optional<std::string> queryArg(lws* wsi, std::string_view name);

// A request header by lws token, empty when absent.
std::string requestHeader(lws* wsi, lws_token_indexes token);

// The client address a per-IP cap counts: the last entry of the trusted proxy
// header (the address the proxy saw) when one is configured and present, else
// the peer address.
std::string peerAddress(lws* wsi, const std::string& trustedProxyHeader);

}  // namespace chat::gateway
