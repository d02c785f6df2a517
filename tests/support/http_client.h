#pragma once
// One blocking HTTP/1.1 request to 127.0.0.1:port with a deadline, on a fresh
// connection (`Connection: close`). Failures come back in HttpResponse::error
// with status 0 instead of exceptions, so a test can poll an endpoint that is
// not up yet. Any thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "http_message.h"

namespace chat::testing {

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, sent as is
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

HttpResponse httpRequest(std::uint16_t port, const HttpRequest& request,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

HttpResponse httpGet(std::uint16_t port, const std::string& target,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace chat::testing
