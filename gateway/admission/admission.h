#pragma once
// Handshake admission: whether a WebSocket upgrade may become a connection,
// decided once, from the request's values and the gateway's state at that
// moment (value in, verdict out; no lws, no I/O). The checks, in order: path,
// upgrade headers, subprotocol, query (room, username, since; an epoch that
// cannot be a room's is foreign, never a refusal), Origin, token (verified
// here only, its claims kept in the verdict), readiness, the connection caps.
// Any thread; the server calls it on its loop.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_verifier.h"
#include "chat/chat_service.h"
#include "config/settings.h"
#include "protocol/refusal.h"
#include "util/origin.h"

namespace chat::gateway {

// What admission reads of an upgrade request.
struct HandshakeRequest {
  std::string path;
  std::string key;           // Sec-WebSocket-Key
  std::string version;       // Sec-WebSocket-Version
  std::string subprotocols;  // Sec-WebSocket-Protocol, as offered
  std::string origin;
  std::string host;
  std::optional<std::string> room;
  std::optional<std::string> username;
  std::optional<std::string> since;
  std::optional<std::string> epoch;
  std::optional<std::string> token;
  std::optional<std::string> cookieToken;  // the AUTH_COOKIE cookie's value, if sent
};

// The gateway's state when the request arrives.
struct AdmissionState {
  std::string notReady;  // why the gateway cannot serve; empty when it can
  std::size_t connections = 0;
  std::size_t connectionsFromPeer = 0;  // from the address the per-IP cap counts
  std::int64_t nowSeconds = 0;          // Unix time, for the token's exp and nbf
};

struct Admission {
  unsigned status = 0;                     // 0: admitted; else the HTTP status that refuses it
  std::string reason;                      // the refusal's body
  std::optional<common::Refusal> counted;  // the refusal's metrics label, if any
  // When admitted:
  bool v1 = false;
  UrlJoin join;          // the URL's room, since and epoch
  std::string username;  // the token's `sub`, else ?username= (v1); empty: a guest
  std::optional<std::vector<std::string>> allowedRooms;  // the token's `rooms` claim
  std::int64_t tokenExpiresAt = 0;  // the token's `exp`; 0: no token (none required)
  // A v1 client admitted without a token where one is required: it must send
  // {"type":"auth"} first (docs/protocol.md section 10); nothing goes out before.
  bool awaitingAuth = false;
  std::string peerKey;  // set by the caller: the address the per-IP cap counted

  bool admitted() const { return status == 0; }
};

class AdmissionPolicy {
 public:
  // `settings` must outlive the policy.
  explicit AdmissionPolicy(const common::Settings& settings);

  Admission admit(const HandshakeRequest& request, const AdmissionState& state) const;
  const common::TokenKeys& tokenKeys() const { return tokenKeys_; }

 private:
  const common::Settings& settings_;
  common::OriginPolicy originPolicy_;
  common::TokenKeys tokenKeys_;
};

inline constexpr std::string_view kWebSocketPath = "/websocket";

// A guest's name when a v1 client gives none: guest-xxxx (random hex).
std::string guestName();

}  // namespace chat::gateway
