#include "http_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chat::testing {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads a chunked body from the socket up to and including its last chunk.
IoResult readChunked(TcpSocket& socket, const Deadline& deadline, std::string& body) {
  for (;;) {
    std::string sizeLine;
    IoResult got = socket.readUntil("\r\n", deadline, sizeLine);
    if (got != IoResult::kOk) return got;
    std::string_view digits = trim(sizeLine.substr(0, sizeLine.find(';')));
    std::size_t size = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
    if (error != std::errc() || end != digits.data() + digits.size()) return IoResult::kError;
    if (size == 0) {
      // Trailers, then the blank line.
      std::string trailer;
      do {
        got = socket.readUntil("\r\n", deadline, trailer);
        if (got != IoResult::kOk) return got;
      } while (!trailer.empty());
      return IoResult::kOk;
    }
    std::string chunk;
    got = socket.readExact(size + 2, deadline, chunk);
    if (got != IoResult::kOk) return got;
    body.append(chunk, 0, size);
  }
}

}  // namespace

std::string toLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(toLower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<HttpResponse> parseResponseHead(std::string_view head) {
  HttpResponse response;
  std::size_t lineEnd = head.find("\r\n");
  std::string_view statusLine = head.substr(0, lineEnd);
  if (!statusLine.starts_with("HTTP/1.")) return std::nullopt;
  std::size_t space = statusLine.find(' ');
  if (space == std::string_view::npos || statusLine.size() < space + 4) return std::nullopt;
  std::string_view code = statusLine.substr(space + 1, 3);
  auto [end, error] = std::from_chars(code.data(), code.data() + code.size(), response.status);
  if (error != std::errc() || end != code.data() + code.size()) return std::nullopt;
  if (statusLine.size() > space + 5) response.reason = statusLine.substr(space + 5);

  std::string_view rest = lineEnd == std::string_view::npos ? "" : head.substr(lineEnd + 2);
  while (!rest.empty()) {
    std::size_t next = rest.find("\r\n");
    std::string_view line = rest.substr(0, next);
    rest = next == std::string_view::npos ? "" : rest.substr(next + 2);
    if (line.empty()) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string name = toLower(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    auto [it, inserted] = response.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  return response;
}

std::optional<std::string> decodeChunked(std::string_view body) {
  std::string out;
  for (;;) {
    std::size_t lineEnd = body.find("\r\n");
    if (lineEnd == std::string_view::npos) return std::nullopt;
    std::string_view digits = trim(body.substr(0, std::min(lineEnd, body.find(';'))));
    std::size_t size = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
    if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    body.remove_prefix(lineEnd + 2);
    if (size == 0) return out;
    if (body.size() < size + 2 || body.substr(size, 2) != "\r\n") return std::nullopt;
    out.append(body.substr(0, size));
    body.remove_prefix(size + 2);
  }
}

HttpResponse readResponse(TcpSocket& socket, const Deadline& deadline, bool readBody) {
  std::string head;
  IoResult got = socket.readUntil("\r\n\r\n", deadline, head);
  if (got != IoResult::kOk) {
    HttpResponse failed;
    failed.error = std::string("reading the response head: ") + describe(got) + " " +
                   socket.lastError() +
                   (socket.buffer().empty() ? "" : "; got: " + socket.buffer());
    return failed;
  }
  std::optional<HttpResponse> parsed = parseResponseHead(head);
  if (!parsed) {
    HttpResponse failed;
    failed.error = "malformed response head: " + head;
    return failed;
  }
  HttpResponse response = std::move(*parsed);
  bool noBody = response.status / 100 == 1 || response.status == 204 || response.status == 304;
  if (!readBody || noBody) return response;

  std::string length = response.header("content-length");
  if (toLower(response.header("transfer-encoding")).find("chunked") != std::string::npos) {
    got = readChunked(socket, deadline, response.body);
  } else if (!length.empty()) {
    std::size_t size = 0;
    auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (error != std::errc() || end != length.data() + length.size()) {
      response.error = "bad Content-Length: " + length;
      return response;
    }
    got = socket.readExact(size, deadline, response.body);
  } else {
    got = socket.readToEof(deadline, response.body);
  }
  if (got != IoResult::kOk) {
    response.error = std::string("reading the response body: ") + describe(got);
  }
  return response;
}

}  // namespace chat::testing
