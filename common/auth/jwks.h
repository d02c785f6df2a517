#pragma once
// A JSON Web Key Set (RFC 7517) as AUTH_JWKS_URL serves it (docs/protocol.md
// section 10): the RSA and EC P-256 signing keys in it, by `kid`, turned into
// PEM public keys for the token verifier. Keys of other types or curves, keys
// for encryption (`use` other than `sig`) and keys too weak for
// checkPublicKey are skipped. Pure; any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::common {

struct JwksKey {
  std::string pem;
  std::string alg;  // the key's `alg` when it names one: tokens must use it
};

// The keys of one JWKS document, by `kid` ("" for a key without one).
using JwksKeys = std::unordered_map<std::string, JwksKey>;

struct JwksParse {
  std::optional<JwksKeys> keys;  // nullopt: not a key set at all
  std::string error;             // why not, or what was skipped
};

JwksParse parseJwks(std::string_view json);

// The key set a gateway process holds, shared by every token check of that
// process and filled by the fetcher (gateway/auth/jwks_fetcher.h) on its
// loop. `refetch` asks for the set to be fetched again (a token named a kid
// it does not hold); its callback, when given, runs once that fetch ended.
struct JwksKeyRing {
  JwksKeys keys;
  bool loaded = false;  // a fetch has succeeded
  std::function<void(std::function<void()> done)> refetch;
};

}  // namespace chat::common
