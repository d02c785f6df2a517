#pragma once
// Verifies the handshake's `token` (PROTOCOL.md section 5, AUTH_SECRET): a JWT
// signed with HS256 and nothing else (`none` and every other alg refused),
// with `exp` and `nbf` checked within a small leeway. `sub` becomes the
// username; an optional `rooms` claim (array of room names) limits the rooms
// the connection may join. Signature checks are libjwt's. Pure, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::common {

struct TokenClaims {
  std::string subject;
  std::optional<std::vector<std::string>> rooms;  // nullopt: any room
};

struct TokenCheck {
  std::optional<TokenClaims> claims;  // set when the token is valid
  std::string error;                  // otherwise, why not (for logs and the 401 body)
};

inline constexpr std::int64_t kTokenLeewaySeconds = 30;

TokenCheck verifyToken(std::string_view token, std::string_view secret, std::int64_t nowSeconds);

}  // namespace chat::common
