#pragma once
// Verifies a client's JWT (docs/protocol.md sections 5 and 10): HS256 with
// AUTH_SECRET, RS256 or ES256 with AUTH_PUBLIC_KEY (a PEM public key) or a key
// of the AUTH_JWKS_URL key set picked by the token's `kid`, and no other alg (`none` and the rest
// refused; an HS256 token is never checked against the public key). `exp` is required and, like
// `nbf`, checked within a 5 s leeway; `aud` (a string or an array) and `iss` must match
// AUTH_AUDIENCE and AUTH_ISSUER when those are set. `sub` becomes the
// username; an optional `rooms` claim (array of room names) limits the rooms
// the connection may join. Signature checks are libjwt's. Pure, any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwks.h"

namespace chat::common {

struct TokenClaims {
  std::string subject;
  std::optional<std::vector<std::string>> rooms;  // nullopt: any room
  std::int64_t expiresAt = 0;                     // `exp`, Unix seconds

  // Whether the `rooms` claim lets the token's holder into `room`.
  bool allows(std::string_view room) const {
    if (!rooms) return true;
    for (const auto& allowed : *rooms)
      if (allowed == room) return true;
    return false;
  }
};

struct TokenCheck {
  std::optional<TokenClaims> claims;  // set when the token is valid
  std::string error;                  // otherwise, why not (for logs and the 401 body)
  bool unknownKey = false;            // its `kid` is not in the key set (yet)
};

// What a token is checked against (from the settings).
struct TokenKeys {
  std::string secret;        // AUTH_SECRET: HS256
  std::string publicKeyPem;  // AUTH_PUBLIC_KEY's content: RS256 or ES256
  std::string audience;      // AUTH_AUDIENCE: required `aud` when not empty
  std::string issuer;        // AUTH_ISSUER: required `iss` when not empty
  // AUTH_JWKS_URL's keys, shared by every copy in a process (null: unset).
  std::shared_ptr<JwksKeyRing> jwks = nullptr;

  // Whether tokens are required at all.
  bool required() const {
    return !secret.empty() || !publicKeyPem.empty() || !audience.empty() || !issuer.empty() ||
           jwks != nullptr;
  }
};

inline constexpr std::int64_t kTokenLeewaySeconds = 5;

TokenCheck verifyToken(std::string_view token, const TokenKeys& keys, std::int64_t nowSeconds);

// An HS256-only check with `secret` (what AUTH_SECRET alone gives).
inline TokenCheck verifyToken(std::string_view token, std::string_view secret,
                              std::int64_t nowSeconds) {
  return verifyToken(token, TokenKeys{std::string(secret), {}, {}, {}, {}}, nowSeconds);
}

// Whether `pem` holds a public key tokens can be checked with (RSA, or EC on
// P-256); otherwise why not.
std::string checkPublicKey(std::string_view pem);

}  // namespace chat::common
