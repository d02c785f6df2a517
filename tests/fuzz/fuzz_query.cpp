// The handshake's untrusted strings: query parameters (queryParam), static
// file paths (isSafeStaticPath, mimeTypeFor) and the Origin check
// (parseOriginPolicy, originAllowed). The first byte picks the function, the
// rest is its input, split at newlines:
//   'q' NAME \n QUERY            queryParam(QUERY, NAME)
//   'p' PATH                     isSafeStaticPath and mimeTypeFor
//   'o' LIST \n ORIGIN \n HOST   ALLOWED_ORIGINS=LIST, then the Origin check
// Each comes with properties: a value found by queryParam and percent-encoded
// again is found again; a "safe" path has no way out of the directory; an
// empty Origin or a "*" policy is always allowed.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "util/origin.h"
#include "util/query.h"

namespace {

using namespace chat::common;

std::string percentEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

void checkQuery(std::string_view input) {
  const std::string_view name = chat::fuzz::takeUntil(input, '\n');
  const auto value = queryParam(input, name);
  if (!value) return;
  if (name.find_first_of("&=") != std::string_view::npos) return;
  // The same value, fully escaped, after some other parameter.
  const std::string query = "x=1&" + std::string(name) + "=" + percentEncode(*value) + "&y=2";
  const auto again = queryParam(query, name);
  FUZZ_CHECK(name == "x" || name == "y" || (again && *again == *value));
}

void checkPath(std::string_view path) {
  FUZZ_CHECK(!mimeTypeFor(path).empty());
  if (!isSafeStaticPath(path)) return;
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  FUZZ_CHECK(path.find("..") == std::string_view::npos);
  FUZZ_CHECK(path.find('\0') == std::string_view::npos);
  FUZZ_CHECK(path.find('\\') == std::string_view::npos);
}

void checkOrigin(std::string_view input) {
  const std::string_view list = chat::fuzz::takeUntil(input, '\n');
  const std::string_view origin = chat::fuzz::takeUntil(input, '\n');
  const std::string_view host = input;
  OriginPolicy policy;
  std::string error;
  if (!parseOriginPolicy(list, policy, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  const bool allowed = originAllowed(policy, origin, host);
  if (origin.empty() || policy.any) FUZZ_CHECK(allowed);
  // Without a list, an Origin of exactly scheme://HOST is the same host.
  if (!host.empty() && host.find_first_of("/?#@ \t") == std::string_view::npos && !policy.any &&
      policy.allowed.empty()) {
    FUZZ_CHECK(originAllowed(policy, "http://" + std::string(host), host));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input = chat::fuzz::asView(data + 1, size - 1);
  switch (data[0]) {
    case 'q':
      checkQuery(input);
      break;
    case 'p':
      checkPath(input);
      break;
    case 'o':
      checkOrigin(input);
      break;
    default:
      // Everything at once, so that no byte of the input space is wasted.
      checkQuery(input);
      checkPath(input);
      checkOrigin(input);
      break;
  }
  return 0;
}
