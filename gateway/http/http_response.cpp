#include "http/http_response.h"

#include <cstring>
#include <utility>
#include <vector>

namespace chat::gateway {
namespace {

constexpr std::size_t kHeaderSpace = 1024;

constexpr std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"x-content-type-options:", "nosniff"},
    {"referrer-policy:", "no-referrer"},
};

}  // namespace

int respondText(lws* wsi, unsigned status, std::string_view body, std::string_view contentType,
                AfterResponse after, const ExtraHeader& extraHeader) {
  std::vector<unsigned char> buffer(LWS_PRE + kHeaderSpace + body.size());
  unsigned char* start = buffer.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = start + kHeaderSpace;
  const std::string type(contentType);
  if (lws_add_http_common_headers(wsi, status, type.c_str(), body.size(), &p, end) != 0) return -1;
  static constexpr char kNoStore[] = "no-store";
  if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                   reinterpret_cast<const unsigned char*>(kNoStore),
                                   sizeof kNoStore - 1, &p, end) != 0)
    return -1;
  for (const auto& [name, value] : kSecurityHeaders) {
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                    reinterpret_cast<const unsigned char*>(value),
                                    static_cast<int>(std::strlen(value)), &p, end) != 0)
      return -1;
  }
  if (!extraHeader.name.empty() &&
      lws_add_http_header_by_name(wsi,
                                  reinterpret_cast<const unsigned char*>(extraHeader.name.c_str()),
                                  reinterpret_cast<const unsigned char*>(extraHeader.value.data()),
                                  static_cast<int>(extraHeader.value.size()), &p, end) != 0)
    return -1;
  if (after == AfterResponse::kClose) {
    static constexpr char kClose[] = "close";
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     reinterpret_cast<const unsigned char*>(kClose),
                                     sizeof kClose - 1, &p, end) != 0)
      return -1;
  }
  if (lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;
  if (!body.empty()) {
    // Reuse the buffer: the body goes after fresh LWS_PRE headroom.
    unsigned char* payload = buffer.data() + LWS_PRE;
    std::copy(body.begin(), body.end(), payload);
    if (lws_write(wsi, payload, body.size(), LWS_WRITE_HTTP_FINAL) != static_cast<int>(body.size()))
      return -1;
  }
  // lws flushes what it still holds before it closes.
  if (after == AfterResponse::kClose) return -1;
  return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

int serveFile(lws* wsi, const std::string& file, std::string_view contentType) {
  const std::string type(contentType);
  // Our own frontend adds a strict Content-Security-Policy in its page; none
  // is sent here, so a page with inline script (the tutorial's) still works.
  static constexpr char kHeaders[] =
      "cache-control: no-cache\r\n"
      "x-content-type-options: nosniff\r\n"
      "referrer-policy: no-referrer\r\n"
      "x-frame-options: DENY\r\n";
  const int rc = lws_serve_http_file(wsi, file.c_str(), type.c_str(), kHeaders,
                                     static_cast<int>(sizeof kHeaders - 1));
  // Below zero: failed and closing; above zero: done, transaction complete.
  if (rc < 0) return -1;
  if (rc > 0) return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
  return 0;
}

void refuseUpgrade(lws* wsi, unsigned status, std::string_view reason) {
  const std::string body(reason);
  lws_return_http_status(wsi, status, body.c_str());
}

std::optional<std::string> queryArg(lws* wsi, std::string_view name) {
  // lws keeps each query argument as one fragment of the URI_ARGS token,
  // already %-decoded (and '+' turned into a space).
  char fragment[4096];
  for (int i = 0;; ++i) {
    const int n = lws_hdr_copy_fragment(wsi, fragment, sizeof fragment, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) return std::nullopt;
    const std::string_view arg(fragment, static_cast<std::size_t>(n));
    const auto eq = arg.find('=');
    if (arg.substr(0, eq) == name)
      return std::string(eq == std::string_view::npos ? std::string_view{} : arg.substr(eq + 1));
  }
}

std::string requestHeader(lws* wsi, lws_token_indexes token) {
  const int length = lws_hdr_total_length(wsi, token);
  if (length <= 0) return {};
  std::string value(static_cast<std::size_t>(length) + 1, '\0');
  const int n = lws_hdr_copy(wsi, value.data(), length + 1, token);
  value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return value;
}

std::string peerAddress(lws* wsi, const std::string& trustedProxyHeader) {
  if (!trustedProxyHeader.empty()) {
    const std::string name = trustedProxyHeader + ":";
    const int length = lws_hdr_custom_length(wsi, name.c_str(), static_cast<int>(name.size()));
    if (length > 0) {
      std::string value(static_cast<std::size_t>(length) + 1, '\0');
      const int n = lws_hdr_custom_copy(wsi, value.data(), length + 1, name.c_str(),
                                        static_cast<int>(name.size()));
      value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      // The proxy appends the address it saw: the last entry is the one to trust.
      const auto comma = value.rfind(',');
      std::string_view last = comma == std::string::npos
                                  ? std::string_view(value)
                                  : std::string_view(value).substr(comma + 1);
      while (!last.empty() && last.front() == ' ')
        last.remove_prefix(1);
      if (!last.empty()) return std::string(last);
    }
  }
  char address[64] = "";
  lws_get_peer_simple(wsi, address, sizeof address);
  return address;
}

}  // namespace chat::gateway
