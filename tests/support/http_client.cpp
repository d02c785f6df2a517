#include "http_client.h"

namespace chat::testing {

HttpResponse httpRequest(std::uint16_t port, const HttpRequest& request,
                         std::chrono::milliseconds timeout) {
  Deadline deadline(timeout);
  TcpSocket socket;
  if (!socket.connect(port, deadline)) {
    HttpResponse failed;
    failed.error = socket.lastError();
    return failed;
  }
  std::string text = request.method + " " + request.target + " HTTP/1.1\r\n";
  text += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  text += "Connection: close\r\n";
  bool hasLength = false;
  for (const auto& [name, value] : request.headers) {
    text += name + ": " + value + "\r\n";
    hasLength = hasLength || toLower(name) == "content-length";
  }
  if (!hasLength &&
      (!request.body.empty() || request.method == "POST" || request.method == "PUT")) {
    text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  text += "\r\n";
  text += request.body;
  IoResult sent = socket.sendAll(text, deadline);
  if (sent != IoResult::kOk) {
    HttpResponse failed;
    failed.error = std::string("sending the request: ") + describe(sent) + " " + socket.lastError();
    return failed;
  }
  return readResponse(socket, deadline, request.method != "HEAD");
}

HttpResponse httpGet(std::uint16_t port, const std::string& target,
                     std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.target = target;
  return httpRequest(port, request, timeout);
}

}  // namespace chat::testing
