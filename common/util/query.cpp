#include "util/query.h"

#include <array>
#include <utility>

#include "config/redis_url.h"

namespace chat::common {

std::optional<std::string> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string raw(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    for (char& c : raw) {
      if (c == '+') c = ' ';
    }
    bool ok = true;
    auto value = percentDecode(raw, ok);
    if (!ok) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string_view mimeTypeFor(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
  }};
  const auto dot = path.rfind('.');
  if (dot != std::string_view::npos && path.find('/', dot) == std::string_view::npos) {
    const auto ext = path.substr(dot);
    for (const auto& [known, type] : kTypes) {
      if (ext == known) return type;
    }
  }
  return "application/octet-stream";
}

bool isSafeStaticPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find("..") != std::string_view::npos) return false;
  if (path.find("//") != std::string_view::npos) return false;
  if (path.find('\\') != std::string_view::npos) return false;
  if (path.find('\0') != std::string_view::npos) return false;
  return true;
}

std::optional<std::string> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semicolon = header.find(';');
    std::string_view pair = header.substr(0, semicolon);
    header =
        semicolon == std::string_view::npos ? std::string_view{} : header.substr(semicolon + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t'))
      pair.remove_prefix(1);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos || pair.substr(0, equals) != name) continue;
    std::string_view value = pair.substr(equals + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace chat::common
