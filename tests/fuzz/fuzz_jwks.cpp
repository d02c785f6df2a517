// parseJwks (AUTH_JWKS_URL, docs/protocol.md section 10) on arbitrary bytes: a
// key set comes over the network from an identity provider the gateway does
// not control. Checks: every key it yields is a PEM public key that
// checkPublicKey accepts (RSA of 2048 bits or more, or EC P-256), and a
// document it refuses yields no keys.

#include <cstddef>
#include <cstdint>

#include "auth/jwks.h"
#include "auth/token_verifier.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const chat::common::JwksParse parsed = chat::common::parseJwks(chat::fuzz::asView(data, size));
  if (!parsed.keys) {
    FUZZ_CHECK(!parsed.error.empty());
    return 0;
  }
  for (const auto& [kid, key] : *parsed.keys)
    FUZZ_CHECK(chat::common::checkPublicKey(key.pem).empty());
  return 0;
}
