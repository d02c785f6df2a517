#include "http/request_head.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chat::gateway {
namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Calls fn(name, value) for each header line of a complete head.
template <typename Fn>
void forEachHeader(std::string_view head, Fn fn) {
  std::size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const std::size_t end = head.find('\n', pos + 1);
    const std::string_view line =
        head.substr(pos + 1, (end == std::string_view::npos ? head.size() : end) - pos - 1);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos)
      fn(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    pos = end;
  }
}

bool containsNul(std::string_view target) {
  for (std::size_t i = 0; i + 2 < target.size(); ++i) {
    if (target[i] == '%' && target[i + 1] == '0' && target[i + 2] == '0') return true;
  }
  return false;
}

}  // namespace

HeadVerdict inspectHead(std::string_view bytes) {
  HeadVerdict verdict;
  const std::size_t lineEnd = bytes.find('\n');
  if (lineEnd != std::string_view::npos) {
    // The request line: METHOD SP target SP version.
    const std::string_view line = bytes.substr(0, lineEnd);
    const std::size_t first = line.find(' ');
    const std::size_t last = line.rfind(' ');
    if (first != std::string_view::npos && last > first &&
        containsNul(line.substr(first + 1, last - first - 1))) {
      verdict.kind = HeadVerdict::Kind::kRefuse;
      verdict.status = 400;
      verdict.reason = line.substr(first + 1).substr(0, 10) == "/websocket"
                           ? "bad room name: use 1-64 of A-Z a-z 0-9 _ . - (no NUL)"
                           : "bad request: the URL holds a NUL (%00)";
      return verdict;
    }
  }
  std::size_t blank = bytes.find("\r\n\r\n");
  std::size_t blankLength = 4;
  if (const std::size_t bare = bytes.find("\n\n"); bare < blank) {
    blank = bare;
    blankLength = 2;
  }
  if (blank == std::string_view::npos) {
    verdict.kind =
        bytes.size() >= kMaxInspectedHead ? HeadVerdict::Kind::kPass : HeadVerdict::Kind::kNeedMore;
    return verdict;
  }
  verdict.headBytes = blank + blankLength;
  bool chunked = false;
  forEachHeader(bytes.substr(0, blank), [&](std::string_view name, std::string_view value) {
    if (!equalsIgnoringCase(name, "transfer-encoding")) return;
    // The last coding decides (RFC 9112 section 6.3); "chunked" must be it.
    const std::size_t comma = value.rfind(',');
    chunked = equalsIgnoringCase(
        trim(comma == std::string_view::npos ? value : value.substr(comma + 1)), "chunked");
    if (!chunked) {
      verdict.kind = HeadVerdict::Kind::kRefuse;
      verdict.status = 501;
      verdict.reason = "transfer coding not supported: send Content-Length or chunked";
    }
  });
  if (verdict.kind == HeadVerdict::Kind::kRefuse) return verdict;
  verdict.kind = chunked ? HeadVerdict::Kind::kDechunk : HeadVerdict::Kind::kPass;
  return verdict;
}

ChunkedBody::State ChunkedBody::feed(std::string& input) {
  std::size_t pos = 0;
  State state = State::kMore;
  while (state == State::kMore) {
    if (step_ == Step::kData) {
      const std::size_t take = std::min(chunkLeft_, input.size() - pos);
      body_.append(input, pos, take);
      pos += take;
      chunkLeft_ -= take;
      if (chunkLeft_ > 0) break;
      step_ = Step::kDataEnd;
      continue;
    }
    if (step_ == Step::kDone) {
      state = State::kDone;
      break;
    }
    const std::size_t eol = input.find('\n', pos);
    if (eol == std::string::npos) {
      // A size or trailer line never needs more than a few hundred bytes.
      if (input.size() - pos > 1024) state = State::kMalformed;
      break;
    }
    const std::string_view line = trim(std::string_view(input).substr(pos, eol - pos));
    pos = eol + 1;
    switch (step_) {
      case Step::kSize: {
        const std::string_view digits = line.substr(0, line.find(';'));
        std::size_t size = 0;
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
          state = State::kMalformed;
        } else if (size > maxBody_ || body_.size() + size > maxBody_) {
          state = State::kTooLarge;
        } else if (size == 0) {
          step_ = Step::kTrailer;
        } else {
          chunkLeft_ = size;
          step_ = Step::kData;
        }
        break;
      }
      case Step::kDataEnd:
        if (!line.empty()) state = State::kMalformed;
        step_ = Step::kSize;
        break;
      case Step::kTrailer:
        if (line.empty()) step_ = Step::kDone;  // trailer fields are ignored
        break;
      case Step::kData:
      case Step::kDone:
        break;
    }
  }
  input.erase(0, pos);
  return state;
}

BufferedRequest bufferedRequest(std::string_view head, std::string body) {
  BufferedRequest request;
  const std::string_view line = head.substr(0, head.find('\r'));
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  request.method = std::string(line.substr(0, first));
  if (first != std::string_view::npos && last > first) {
    const std::string_view target = line.substr(first + 1, last - first - 1);
    request.path = std::string(target.substr(0, target.find('?')));
  }
  forEachHeader(head, [&](std::string_view name, std::string_view value) {
    if (equalsIgnoringCase(name, "authorization")) request.authorization = std::string(value);
  });
  request.body = std::move(body);
  return request;
}

std::string httpResponse(unsigned status, std::string_view contentType, std::string_view body) {
  std::string_view phrase = "Error";
  switch (status) {
    case 200:
      phrase = "OK";
      break;
    case 201:
      phrase = "Created";
      break;
    case 400:
      phrase = "Bad Request";
      break;
    case 401:
      phrase = "Unauthorized";
      break;
    case 404:
      phrase = "Not Found";
      break;
    case 405:
      phrase = "Method Not Allowed";
      break;
    case 408:
      phrase = "Request Timeout";
      break;
    case 413:
      phrase = "Content Too Large";
      break;
    case 501:
      phrase = "Not Implemented";
      break;
    case 503:
      phrase = "Service Unavailable";
      break;
    default:
      break;
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(phrase) + "\r\n";
  out += "content-type: ";
  out += contentType;
  out += "\r\ncontent-length: " + std::to_string(body.size()) + "\r\n";
  out += "cache-control: no-store\r\nx-content-type-options: nosniff\r\n";
  out += "connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string plainResponse(unsigned status, std::string_view reason) {
  std::string body(reason);
  body += '\n';
  return httpResponse(status, "text/plain; charset=utf-8", body);
}

}  // namespace chat::gateway
