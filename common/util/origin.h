#pragma once
// The Origin check of docs/protocol.md section 5: which browser pages may open a
// WebSocket. Pure, any thread.

#include <string>
#include <string_view>
#include <vector>

namespace chat::common {

// ALLOWED_ORIGINS parsed: empty list = same host only; "*" = anyone.
struct OriginPolicy {
  bool any = false;
  std::vector<std::string> allowed;  // normalized "scheme://host[:port]"
};

// Parses a comma list ("https://a.example, http://b.example:8080" or "*");
// returns false (and leaves `policy` unspecified) on a malformed entry.
bool parseOriginPolicy(std::string_view list, OriginPolicy& policy, std::string& error);

// `origin` empty means the request sent none (not a browser page): allowed.
// Unset policy: the Origin's host[:port] must equal the Host header.
bool originAllowed(const OriginPolicy& policy, std::string_view origin, std::string_view host);

}  // namespace chat::common
