#pragma once
// URL query strings (`room=dev&since=42`) and request paths from untrusted
// requests. Pure, any thread.

#include <optional>
#include <string>
#include <string_view>

namespace chat::common {

// The decoded value of the first `name=` parameter in `query` ('+' is a
// space); nullopt when absent or badly escaped.
std::optional<std::string> queryParam(std::string_view query, std::string_view name);

// The value of cookie `name` in a Cookie header (`a=1; b=2`, RFC 6265
// section 5.4), quotes around it removed; nullopt when absent.
std::optional<std::string> cookieValue(std::string_view header, std::string_view name);

// Content-Type for a file name, by extension; octet-stream when unknown.
std::string_view mimeTypeFor(std::string_view path);

// True for a request path that may be mapped below the static directory:
// absolute, no "..", no backslash, no NUL, no "//".
bool isSafeStaticPath(std::string_view path);

}  // namespace chat::common
