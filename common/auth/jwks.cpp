#include "auth/jwks.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <memory>

#include "auth/token_verifier.h"
#include "util/base64url.h"

namespace chat::common {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using KeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

std::optional<std::string> member(const rapidjson::Value& key, const char* name) {
  const auto it = key.FindMember(name);
  if (it == key.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string toPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// A public key of `type` ("RSA" or "EC") from OpenSSL parameters.
std::string keyFromParams(const char* type, OSSL_PARAM_BLD* build) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build));
  KeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return {};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return {};
  KeyPtr key(raw);
  return toPem(key.get());
}

std::string rsaPem(const rapidjson::Value& jwk) {
  const auto n = member(jwk, "n");
  const auto e = member(jwk, "e");
  const auto modulus = n ? base64UrlDecode(*n) : std::nullopt;
  const auto exponent = e ? base64UrlDecode(*e) : std::nullopt;
  if (!modulus || !exponent || modulus->empty() || exponent->empty()) return {};
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus->data()),
                     static_cast<int>(modulus->size()), nullptr));
  BnPtr be(BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent->data()),
                     static_cast<int>(exponent->size()), nullptr));
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!bn || !be || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1)
    return {};
  return keyFromParams("RSA", build.get());
}

std::string p256Pem(const rapidjson::Value& jwk) {
  if (member(jwk, "crv") != "P-256") return {};
  const auto x = member(jwk, "x");
  const auto y = member(jwk, "y");
  const auto xs = x ? base64UrlDecode(*x) : std::nullopt;
  const auto ys = y ? base64UrlDecode(*y) : std::nullopt;
  if (!xs || !ys || xs->size() != 32 || ys->size() != 32) return {};
  // The uncompressed point: 0x04, x, y.
  const std::string point = std::string(1, '\x04') + *xs + *ys;
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return {};
  return keyFromParams("EC", build.get());
}

}  // namespace

JwksParse parseJwks(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return {std::nullopt, "not a JSON object"};
  const auto list = doc.FindMember("keys");
  if (list == doc.MemberEnd() || !list->value.IsArray()) return {std::nullopt, "no \"keys\" array"};
  JwksParse result;
  result.keys.emplace();
  for (const auto& jwk : list->value.GetArray()) {
    if (!jwk.IsObject()) continue;
    const std::string kid = member(jwk, "kid").value_or("");
    const auto use = member(jwk, "use");
    if (use && *use != "sig") continue;
    const auto kty = member(jwk, "kty");
    std::string pem;
    if (kty == "RSA")
      pem = rsaPem(jwk);
    else if (kty == "EC")
      pem = p256Pem(jwk);
    const std::string problem = pem.empty() ? "not an RSA or EC P-256 key" : checkPublicKey(pem);
    if (!problem.empty()) {
      result.error +=
          (result.error.empty() ? "skipped key \"" : "; skipped key \"") + kid + "\": " + problem;
      continue;
    }
    result.keys->insert_or_assign(kid, JwksKey{std::move(pem), member(jwk, "alg").value_or("")});
  }
  return result;
}

}  // namespace chat::common
