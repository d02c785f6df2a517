#include "http/routes.h"

#include <sys/stat.h>

#include "http/http_response.h"
#include "util/query.h"

namespace chat::gateway {
namespace {

bool isRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

HttpRoutes& HttpRoutes::exact(std::string path, Handler handler) {
  exact_.emplace_back(std::move(path), std::move(handler));
  return *this;
}

HttpRoutes& HttpRoutes::prefix(std::string prefix, Handler handler) {
  prefixes_.emplace_back(std::move(prefix), std::move(handler));
  return *this;
}

HttpRoutes& HttpRoutes::fallback(Handler handler) {
  fallback_ = std::move(handler);
  return *this;
}

int HttpRoutes::dispatch(lws* wsi, Session& session, std::string_view path) const {
  for (const auto& [route, handler] : exact_) {
    if (path == route) return handler(wsi, session, path);
  }
  for (const auto& [route, handler] : prefixes_) {
    if (path.substr(0, route.size()) == route) return handler(wsi, session, path);
  }
  return fallback_ ? fallback_(wsi, session, path) : respondText(wsi, 404, "not found\n");
}

int serveStatic(lws* wsi, const std::string& staticDir, std::string_view path) {
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
      lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
    return respondText(wsi, 405, "method not allowed\n");
  if (!common::isSafeStaticPath(path)) return respondText(wsi, 404, "not found\n");
  std::string file = staticDir + std::string(path);
  if (path.back() == '/') file += "index.html";
  if (!isRegularFile(file)) return respondText(wsi, 404, "not found\n");
  return serveFile(wsi, file, common::mimeTypeFor(file));
}

}  // namespace chat::gateway
