#include "util/origin.h"

#include <algorithm>
#include <cctype>

namespace chat::common {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '/'))
    s.remove_suffix(1);
  return s;
}

// "scheme://authority" with nothing after the authority.
bool isOrigin(std::string_view s) {
  const auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  const auto authority = s.substr(sep + 3);
  return !authority.empty() && authority.find_first_of("/?#@ ") == std::string_view::npos;
}

}  // namespace

bool parseOriginPolicy(std::string_view list, OriginPolicy& policy, std::string& error) {
  policy = {};
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      policy.any = true;
      continue;
    }
    if (!isOrigin(entry)) {
      error.assign(1, '"');
      error.append(entry);
      error.append("\" is not an origin like https://chat.example.com");
      return false;
    }
    policy.allowed.push_back(lower(entry));
  }
  return true;
}

bool originAllowed(const OriginPolicy& policy, std::string_view origin, std::string_view host) {
  if (origin.empty() || policy.any) return true;
  const std::string normalized = lower(trim(origin));
  if (!policy.allowed.empty())
    return std::find(policy.allowed.begin(), policy.allowed.end(), normalized) !=
           policy.allowed.end();
  // Same host: the page was served by this gateway (or its load balancer).
  const auto sep = normalized.find("://");
  if (sep == std::string::npos || host.empty()) return false;
  return normalized.substr(sep + 3) == lower(host);
}

}  // namespace chat::common
