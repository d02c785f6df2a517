#include "jwt_maker.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <stdexcept>

namespace chat::testing {
namespace {

// A JSON string literal for the few strings a token holds (names, rooms).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const EVP_MD* digestOf(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHs256:
      return EVP_sha256();
    case JwtAlg::kHs384:
      return EVP_sha384();
    case JwtAlg::kHs512:
      return EVP_sha512();
    case JwtAlg::kNone:
      break;
  }
  return nullptr;
}

}  // namespace

std::string_view jwtAlgName(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kNone:
      return "none";
    case JwtAlg::kHs256:
      return "HS256";
    case JwtAlg::kHs384:
      return "HS384";
    case JwtAlg::kHs512:
      return "HS512";
  }
  return "none";
}

std::string base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::string hmac(JwtAlg alg, std::string_view key, std::string_view data) {
  const EVP_MD* md = digestOf(alg);
  if (md == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string signJwt(std::string_view headerJson, std::string_view payloadJson, JwtAlg alg,
                    std::string_view secret) {
  std::string token = base64UrlEncode(headerJson) + "." + base64UrlEncode(payloadJson);
  const std::string signature = hmac(alg, secret, token);
  return token + "." + base64UrlEncode(signature);
}

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string pemOf(EVP_PKEY* key, bool isPrivate) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  const int ok =
      isPrivate ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) throw std::runtime_error("PEM_write failed");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

KeyPair generateKeyPair(KeyKind kind) {
  PkeyPtr key(kind == KeyKind::kRsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
              EVP_PKEY_free);
  if (!key) throw std::runtime_error("key generation failed");
  return {pemOf(key.get(), true), pemOf(key.get(), false)};
}

std::string publicJwk(const KeyPair& keyPair, KeyKind kind, std::string_view kid) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(keyPair.publicPem.data(), static_cast<int>(keyPair.publicPem.size())),
      BIO_free);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("not a public key");
  const auto bignum = [&](const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), name, &bn) != 1) throw std::runtime_error(name);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return base64UrlEncode(bytes);
  };
  std::string jwk = "{\"kid\":" + quoted(kid) + ",\"use\":\"sig\",";
  if (kind == KeyKind::kRsa) {
    jwk += "\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"" + bignum(OSSL_PKEY_PARAM_RSA_N) +
           "\",\"e\":\"" + bignum(OSSL_PKEY_PARAM_RSA_E) + "\"}";
    return jwk;
  }
  unsigned char point[65];
  std::size_t size = 0;
  if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                      &size) != 1 ||
      size != 65)
    throw std::runtime_error("not an uncompressed P-256 point");
  const std::string_view raw(reinterpret_cast<const char*>(point), size);
  jwk += "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + base64UrlEncode(raw.substr(1, 32)) +
         "\",\"y\":\"" + base64UrlEncode(raw.substr(33, 32)) + "\"}";
  return jwk;
}

std::string signJwtWithKey(std::string_view payloadJson, const KeyPair& keyPair, KeyKind kind,
                           std::string_view kid) {
  std::string header = std::string("{\"alg\":\"") + (kind == KeyKind::kRsa ? "RS256" : "ES256") +
                       "\",\"typ\":\"JWT\"";
  if (!kid.empty()) header += ",\"kid\":" + quoted(kid);
  header += '}';
  const std::string input = base64UrlEncode(header) + "." + base64UrlEncode(payloadJson);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(keyPair.privatePem.data(), static_cast<int>(keyPair.privatePem.size())),
      BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("not a private key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("signing failed");
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("signing failed");
  signature.resize(size);
  if (kind == KeyKind::kEc) {
    // DER (SEQUENCE of r, s) to JWS's fixed 32-byte r || s.
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())), ECDSA_SIG_free);
    if (!sig) throw std::runtime_error("bad ECDSA signature");
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + 32, 32);
    signature.assign(reinterpret_cast<const char*>(raw), sizeof raw);
  }
  return input + "." + base64UrlEncode(signature);
}

std::string makeToken(const TokenSpec& spec, std::string_view secret) {
  const std::string header = "{\"alg\":" + quoted(jwtAlgName(spec.alg)) + ",\"typ\":\"JWT\"}";
  std::string payload =
      "{\"sub\":" + quoted(spec.subject) + ",\"exp\":" + std::to_string(spec.expiresAt);
  if (spec.rooms) {
    payload += ",\"rooms\":[";
    for (std::size_t i = 0; i < spec.rooms->size(); ++i) {
      if (i > 0) payload += ',';
      payload += quoted((*spec.rooms)[i]);
    }
    payload += ']';
  }
  payload += '}';
  return signJwt(header, payload, spec.alg, secret);
}

std::int64_t unixSecondsNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace chat::testing
