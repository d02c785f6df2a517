#pragma once
// Makes JSON Web Tokens (RFC 7519, compact form) for tests of AUTH_SECRET: a
// header and a payload given as JSON text, base64url-encoded without padding,
// signed with HMAC-SHA256/384/512 from OpenSSL's libcrypto, or unsigned for
// `alg: none`. The gateway checks tokens with libjwt; making them here with
// other code means a test cannot pass by sharing a bug with the verifier.
// Pure functions, any thread; used by the integration tests and the token
// fuzz target.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::testing {

enum class JwtAlg { kNone, kHs256, kHs384, kHs512 };

// "none", "HS256", "HS384", "HS512".
std::string_view jwtAlgName(JwtAlg alg);

// base64url (RFC 4648 section 5) without '=' padding.
std::string base64UrlEncode(std::string_view bytes);

// HMAC of `data` with `key`; empty for kNone.
std::string hmac(JwtAlg alg, std::string_view key, std::string_view data);

// base64url(header) "." base64url(payload) "." base64url(signature), the
// signature computed with `alg` over the first two parts, whatever the header
// says (so a test can lie in the header). kNone leaves the signature empty.
std::string signJwt(std::string_view headerJson, std::string_view payloadJson, JwtAlg alg,
                    std::string_view secret);

// What most tests want: {"alg":"..","typ":"JWT"} and a payload with `sub`,
// `exp` (seconds since the Unix epoch) and, when given, a `rooms` array.
struct TokenSpec {
  std::string subject;
  std::int64_t expiresAt = 0;
  std::optional<std::vector<std::string>> rooms;
  JwtAlg alg = JwtAlg::kHs256;
};
std::string makeToken(const TokenSpec& spec, std::string_view secret);

// A key pair for RS256 (RSA 2048) or ES256 (EC P-256), both as PEM: the
// private key (PKCS#8) to sign with, the public key (SubjectPublicKeyInfo)
// for AUTH_PUBLIC_KEY.
enum class KeyKind { kRsa, kEc };
struct KeyPair {
  std::string privatePem;
  std::string publicPem;
};
KeyPair generateKeyPair(KeyKind kind);

// A token signed RS256 (RSA key) or ES256 (EC key: the signature as JWS's
// raw r||s, not DER), with header {"alg":..,"typ":"JWT"} plus `kid` when given.
std::string signJwtWithKey(std::string_view payloadJson, const KeyPair& key, KeyKind kind,
                           std::string_view kid = {});

// The public half of `key` as a JWK (RFC 7517) object, with `kid`:
// {"kty":"RSA","n":..,"e":..} or {"kty":"EC","crv":"P-256","x":..,"y":..}.
std::string publicJwk(const KeyPair& key, KeyKind kind, std::string_view kid);

// Seconds since the Unix epoch.
std::int64_t unixSecondsNow();

}  // namespace chat::testing
