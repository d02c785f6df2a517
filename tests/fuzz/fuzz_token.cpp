// verifyToken (AUTH_SECRET, docs/protocol.md section 5) on fuzzed tokens. Random
// bytes alone never get past the signature, so most inputs are a header and
// a payload that this target signs itself (with tests/support/jwt_maker),
// which takes the fuzzer into libjwt's JSON and the claim checks. The first
// byte is the mode:
//   0 mod 4: the rest of the input is the token, as is
//   1 mod 4: HEADER \n PAYLOAD, signed HS256 with the right secret
//   2 mod 4: the same, signed with the alg picked by bits 2-3 (none, HS256,
//            HS384, HS512) and the right secret
//   3 mod 4: the same, signed HS256 with a wrong secret
// Bits 4-7 pick "now" among a few instants, extremes included. Checks: a
// token that passes has a valid username and valid rooms; a wrong secret or a
// signature of another alg never passes.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "auth/token_verifier.h"
#include "fuzz_check.h"
#include "jwt_maker.h"
#include "protocol/validation.h"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat::common;
  using chat::testing::JwtAlg;
  if (size == 0) return 0;
  const unsigned mode = data[0] & 3;
  static constexpr JwtAlg kAlgs[] = {JwtAlg::kNone, JwtAlg::kHs256, JwtAlg::kHs384, JwtAlg::kHs512};
  static constexpr std::int64_t kNows[] = {1764028800,
                                           0,
                                           -1,
                                           std::numeric_limits<std::int64_t>::max(),
                                           std::numeric_limits<std::int64_t>::min(),
                                           4102444800};
  const std::int64_t now = kNows[(data[0] >> 4) % std::size(kNows)];
  std::string_view input = chat::fuzz::asView(data + 1, size - 1);

  std::string token;
  JwtAlg alg = JwtAlg::kHs256;
  bool rightSecret = true;
  if (mode == 0) {
    token = input;
  } else {
    const std::string_view header = chat::fuzz::takeUntil(input, '\n');
    if (mode == 2) alg = kAlgs[(data[0] >> 2) & 3];
    rightSecret = mode != 3;
    token = chat::testing::signJwt(header, input, alg,
                                   rightSecret ? kSecret : std::string_view("another-secret-9876"));
  }

  const TokenCheck check = verifyToken(token, kSecret, now);
  if (!check.claims) {
    FUZZ_CHECK(!check.error.empty());
    return 0;
  }
  FUZZ_CHECK(check.error.empty());
  FUZZ_CHECK(mode == 0 || (rightSecret && alg == JwtAlg::kHs256));
  FUZZ_CHECK(!checkUsername(check.claims->subject).refusal);
  FUZZ_CHECK(checkUsername(check.claims->subject).username == check.claims->subject);
  if (check.claims->rooms) {
    for (const std::string& room : *check.claims->rooms)
      FUZZ_CHECK(isValidRoomName(room));
  }
  return 0;
}
