#include "admission/admission.h"

#include <algorithm>
#include <charconv>
#include <random>

#include "auth/token_verifier.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "ws/ws_endpoint.h"

namespace chat::gateway {
namespace {

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
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
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

Admission refuse(unsigned status, std::string reason,
                 std::optional<common::Refusal> counted = std::nullopt) {
  Admission a;
  a.status = status;
  a.reason = std::move(reason);
  a.counted = counted;
  return a;
}

}  // namespace

AdmissionPolicy::AdmissionPolicy(const common::Settings& settings)
    : settings_(settings), tokenKeys_(settings.tokenKeys()) {
  std::string ignored;  // validated when the settings were loaded
  common::parseOriginPolicy(settings_.allowedOrigins, originPolicy_, ignored);
}

Admission AdmissionPolicy::admit(const HandshakeRequest& r, const AdmissionState& state) const {
  if (r.path != kWebSocketPath) return refuse(404, "not found");
  // lws would drop (or even accept) a malformed upgrade without a word.
  if (r.key.empty() || r.version != "13")
    return refuse(400, "bad WebSocket upgrade: needs Sec-WebSocket-Key and version 13");
  // Likewise a client offering only unknown subprotocols: say why.
  if (!r.subprotocols.empty() && !offersSubprotocol(r.subprotocols, kV1Subprotocol))
    return refuse(400, "unsupported subprotocol: this gateway speaks chat.v1");

  Admission a;
  a.v1 = !r.subprotocols.empty();
  const auto room = common::normalizeRoom(r.room.value_or(""));
  if (!room)
    return refuse(400, "bad room name: use 1-64 of A-Z a-z 0-9 _ . -",
                  common::Refusal::kBadUpgrade);
  a.join.room = *room;
  if (r.username && !r.username->empty()) {
    const auto checked = common::checkUsername(*r.username);
    if (checked.refusal)
      return refuse(400, "bad username: 1-32 characters, no control characters",
                    common::Refusal::kBadUpgrade);
    if (a.v1) a.username = checked.username;
  }
  if (r.since) {
    a.join.request.since = parseId(*r.since);
    if (!a.join.request.since)
      return refuse(400, "since must be a message id", common::Refusal::kBadUpgrade);
  }
  // An epoch that cannot be a room's (stale, foreign) only forgoes recovery.
  if (r.epoch && !r.epoch->empty())
    a.join.request.epoch = isEpoch(*r.epoch) ? *r.epoch : std::string(common::kForeignEpoch);

  if (!common::originAllowed(originPolicy_, r.origin, r.host))
    return refuse(403, "origin not allowed", common::Refusal::kBadOrigin);

  // A URL token wins over the cookie's.
  const std::optional<std::string>& token = r.token ? r.token : r.cookieToken;
  if (tokenKeys_.required() && !token && a.v1) {
    // It may come in the first frame: checked then (ChatService).
    a.awaitingAuth = true;
  } else if (tokenKeys_.required()) {
    // Verified here only: the connection keeps these claims (a refresh
    // replaces them, with the same `sub`).
    auto check = common::verifyToken(token.value_or(""), tokenKeys_, state.nowSeconds);
    if (!check.claims) return refuse(401, check.error, common::Refusal::kBadToken);
    if (!check.claims->allows(a.join.room))
      return refuse(403, "your token does not allow room " + a.join.room,
                    common::Refusal::kForbiddenRoom);
    a.username = check.claims->subject;  // `sub` wins over ?username=
    a.allowedRooms = std::move(check.claims->rooms);
    a.tokenExpiresAt = check.claims->expiresAt;
  }

  if (!state.notReady.empty()) return refuse(503, state.notReady);
  if (state.connections >= settings_.maxConnections)
    return refuse(503, "too many connections", common::Refusal::kConnectionLimit);
  if (settings_.maxConnectionsPerIp > 0 &&
      state.connectionsFromPeer >= settings_.maxConnectionsPerIp)
    return refuse(429, "too many connections from your address", common::Refusal::kConnectionLimit);
  return a;
}

std::string guestName() {
  static std::mt19937 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "guest-";
  for (int i = 0; i < 4; ++i)
    name += kHex[rng() % 16];
  return name;
}

}  // namespace chat::gateway
