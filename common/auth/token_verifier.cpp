#include "auth/token_verifier.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "protocol/validation.h"
#include "util/base64url.h"

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

// What the token's header (its first, base64url-encoded part) says, read
// before any key is chosen: alg (JWT_ALG_INVAL when unreadable) and kid.
struct TokenHeader {
  jwt_alg_t alg = JWT_ALG_INVAL;
  std::string kid;
};

TokenHeader readHeader(std::string_view token) {
  const std::string_view encoded = token.substr(0, token.find('.'));
  if (encoded.size() > 1024) return {};
  const auto decoded = base64UrlDecode(encoded);
  if (!decoded) return {};
  const std::string& json = *decoded;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return {};
  const auto alg = doc.FindMember("alg");
  if (alg == doc.MemberEnd() || !alg->value.IsString()) return {};
  TokenHeader header{jwt_str_alg(alg->value.GetString()), {}};
  const auto kid = doc.FindMember("kid");
  if (kid != doc.MemberEnd() && kid->value.IsString())
    header.kid.assign(kid->value.GetString(), kid->value.GetStringLength());
  return header;
}

// The AUTH_JWKS_URL key for a token: by its kid, or the set's only key when it
// names none. Null when there is none (unknownKey then says to fetch again).
const JwksKey* jwksKeyFor(const JwksKeyRing& ring, const TokenHeader& header) {
  const auto it = ring.keys.find(header.kid);
  if (it != ring.keys.end()) return &it->second;
  if (header.kid.empty() && ring.keys.size() == 1) return &ring.keys.begin()->second;
  return nullptr;
}

// `claim` as a string, or as an array of strings holding `wanted`.
bool claimNames(jwt_t* jwt, const char* claim, const std::string& wanted) {
  if (const char* value = jwt_get_grant(jwt, claim)) return wanted == value;
  char* json = jwt_get_grants_json(jwt, claim);
  if (json == nullptr) return false;
  std::unique_ptr<char, decltype(&std::free)> owned(json, &std::free);
  rapidjson::Document doc;
  doc.Parse(json);
  if (doc.HasParseError() || !doc.IsArray()) return false;
  for (const auto& item : doc.GetArray())
    if (item.IsString() && wanted == std::string_view(item.GetString(), item.GetStringLength()))
      return true;
  return false;
}

}  // namespace

std::string checkPublicKey(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return "out of memory";
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
  if (EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA) {
    if (EVP_PKEY_bits(key.get()) < 2048) return "an RSA key must have at least 2048 bits";
    return {};
  }
  if (EVP_PKEY_base_id(key.get()) == EVP_PKEY_EC) {
    if (EVP_PKEY_bits(key.get()) != 256) return "an EC key must be on P-256 (ES256)";
    return {};
  }
  return "the key must be RSA (RS256) or EC P-256 (ES256)";
}

TokenCheck verifyToken(std::string_view token, const TokenKeys& keys, std::int64_t nowSeconds) {
  if (token.empty()) return fail("missing token");
  if (token.size() > 8192) return fail("token too long");
  if (token.find('\0') != std::string_view::npos) return fail("malformed token");
  const std::string text(token);
  // The header's alg picks the key; the token is then decoded again, checked
  // with that key, and must still say that alg. So an HS256 token is never
  // checked with the public key as its secret (the classic alg confusion).
  const TokenHeader header = readHeader(token);
  const jwt_alg_t alg = header.alg;
  const bool asymmetric = alg == JWT_ALG_RS256 || alg == JWT_ALG_ES256;
  const JwksKey* jwk = asymmetric && keys.jwks ? jwksKeyFor(*keys.jwks, header) : nullptr;
  std::string_view key;
  if (alg == JWT_ALG_HS256 && !keys.secret.empty()) {
    key = keys.secret;
  } else if (jwk != nullptr) {
    if (!jwk->alg.empty() && jwk->alg != jwt_alg_str(alg))
      return fail("token alg is not its key's (" + jwk->alg + ")");
    key = jwk->pem;
  } else if (asymmetric && !keys.publicKeyPem.empty()) {
    key = keys.publicKeyPem;
  } else if (asymmetric && keys.jwks) {
    // A key rotated in since the set was fetched: ask for it again.
    if (keys.jwks->refetch) keys.jwks->refetch(nullptr);
    TokenCheck check = fail(keys.jwks->loaded ? "token kid \"" + header.kid.substr(0, 64) +
                                                    "\" is not in the key set"
                                              : std::string("the key set is not loaded yet"));
    check.unknownKey = true;
    return check;
  } else {
    std::string accepted = keys.secret.empty() ? "" : "HS256";
    if (!keys.publicKeyPem.empty() || keys.jwks)
      accepted += accepted.empty() ? "RS256 or ES256" : ", RS256 or ES256";
    return fail("token alg must be " +
                (accepted.empty() ? std::string("one this gateway has a key for") : accepted));
  }
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                            static_cast<int>(key.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return fail("invalid token signature or format");
  if (jwt_get_alg(jwt.get()) != alg) return fail("token alg changed");

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

  if (!keys.audience.empty() && !claimNames(jwt.get(), "aud", keys.audience))
    return fail("token aud does not name this service");
  if (!keys.issuer.empty()) {
    const char* iss = jwt_get_grant(jwt.get(), "iss");
    if (iss == nullptr || keys.issuer != iss) return fail("token iss is not the expected issuer");
  }

  const char* sub = jwt_get_grant(jwt.get(), "sub");
  if (sub == nullptr) return fail("token has no sub");
  auto name = checkUsername(sub);
  if (name.refusal) return fail("token sub is not a valid username");

  TokenClaims claims;
  claims.subject = std::move(name.username);
  claims.expiresAt = *exp;
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
