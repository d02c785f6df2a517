#include "auth/token_verifier.h"

#include <jwt.h>
#include <rapidjson/document.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "protocol/validation.h"

namespace chat::common {
namespace {

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

TokenCheck fail(std::string error) {
  return {std::nullopt, std::move(error)};
}

// A numeric claim: nullopt when absent, error when present but not a number.
bool readTime(jwt_t* jwt, const char* claim, std::optional<std::int64_t>& out) {
  errno = 0;
  const long value = jwt_get_grant_int(jwt, claim);
  if (errno == ENOENT) return true;
  if (errno != 0) return false;
  out = value;
  return true;
}

}  // namespace

TokenCheck verifyToken(std::string_view token, std::string_view secret, std::int64_t nowSeconds) {
  if (token.empty()) return fail("missing token");
  if (token.size() > 8192) return fail("token too long");
  if (token.find('\0') != std::string_view::npos) return fail("malformed token");
  const std::string text(token);
  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return fail("invalid token signature or format");
  // Only HS256: a token may not choose a weaker (or no) algorithm.
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return fail("token alg must be HS256");

  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  if (!readTime(jwt.get(), "exp", exp) || !readTime(jwt.get(), "nbf", nbf))
    return fail("exp and nbf must be numbers");
  if (!exp) return fail("token has no exp");
  // Compared against `now` moved by the leeway (saturating): claims and the
  // clock can be any 64-bit value.
  std::int64_t earliest = 0;
  std::int64_t latest = 0;
  if (__builtin_sub_overflow(nowSeconds, kTokenLeewaySeconds, &earliest)) earliest = INT64_MIN;
  if (__builtin_add_overflow(nowSeconds, kTokenLeewaySeconds, &latest)) latest = INT64_MAX;
  if (*exp < earliest) return fail("token expired");
  if (nbf && *nbf > latest) return fail("token not yet valid");

  const char* sub = jwt_get_grant(jwt.get(), "sub");
  if (sub == nullptr) return fail("token has no sub");
  auto name = checkUsername(sub);
  if (name.refusal) return fail("token sub is not a valid username");

  TokenClaims claims;
  claims.subject = std::move(name.username);
  if (char* rooms = jwt_get_grants_json(jwt.get(), "rooms")) {
    std::unique_ptr<char, decltype(&std::free)> owned(rooms, &std::free);
    rapidjson::Document doc;
    doc.Parse(rooms);
    if (doc.HasParseError() || !doc.IsArray()) return fail("rooms claim must be an array");
    claims.rooms.emplace();
    for (const auto& room : doc.GetArray()) {
      if (!room.IsString() || !isValidRoomName({room.GetString(), room.GetStringLength()}))
        return fail("rooms claim holds a bad room name");
      claims.rooms->emplace_back(room.GetString(), room.GetStringLength());
    }
  }
  return {std::move(claims), {}};
}

}  // namespace chat::common
