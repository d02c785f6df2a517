#pragma once
// The plain HTTP requests of docs/protocol.md section 1 as a table: exact paths
// first, then path prefixes, then the fallback (the static files). A handler
// returns what lws' HTTP callback should (0 keeps the connection, -1 closes
// it). Loop thread only.

#include <libwebsockets.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ws/ws_endpoint.h"

namespace chat::gateway {

class HttpRoutes {
 public:
  using Handler = std::function<int(lws* wsi, Session& session, std::string_view path)>;

  HttpRoutes& exact(std::string path, Handler handler);
  HttpRoutes& prefix(std::string prefix, Handler handler);
  HttpRoutes& fallback(Handler handler);

  int dispatch(lws* wsi, Session& session, std::string_view path) const;

 private:
  std::vector<std::pair<std::string, Handler>> exact_;
  std::vector<std::pair<std::string, Handler>> prefixes_;
  Handler fallback_;
};

// GET (or HEAD) of a file under `staticDir`; 404 for anything else, 405 for
// other methods. A path ending in '/' serves its index.html.
int serveStatic(lws* wsi, const std::string& staticDir, std::string_view path);

}  // namespace chat::gateway
