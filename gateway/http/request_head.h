#pragma once
// What the gateway decides about a request from its first bytes, before lws
// sees it. lws 4.1 hangs up without a word on a URL holding %00, and it cannot
// read a request body sent with `Transfer-Encoding: chunked` (Node's
// http.request sends bodies that way by default), so such a request would
// never be answered. The RequestGate reads the head itself, answers the first
// with 400, and reads the second's body whole to answer it itself. Pure functions of bytes; any
// thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat::gateway {

struct HeadVerdict {
  enum class Kind {
    kNeedMore,  // the head (up to the blank line) is not complete yet
    kPass,      // hand the connection to lws as it is
    kRefuse,    // answer `status` with `reason` and close
    kDechunk,   // a chunked body follows the head (`headBytes` long)
  };
  Kind kind = Kind::kNeedMore;
  std::size_t headBytes = 0;
  unsigned status = 0;
  std::string reason;
};

// Heads longer than this go to lws whole, which answers them itself.
inline constexpr std::size_t kMaxInspectedHead = 8192;

HeadVerdict inspectHead(std::string_view bytes);

// Decodes a chunked body (RFC 9112 section 7.1) as its bytes arrive.
class ChunkedBody {
 public:
  explicit ChunkedBody(std::size_t maxBody) : maxBody_(maxBody) {}

  enum class State { kMore, kDone, kTooLarge, kMalformed };
  // Consumes bytes from the front of `input`; returns the state after them.
  // After kDone, `input` keeps what followed the body (a pipelined request).
  State feed(std::string& input);
  const std::string& body() const { return body_; }

 private:
  enum class Step { kSize, kData, kDataEnd, kTrailer, kDone };
  std::size_t maxBody_;
  Step step_ = Step::kSize;
  std::size_t chunkLeft_ = 0;
  std::string body_;
};

// A request whose chunked body the gate has read whole.
struct BufferedRequest {
  std::string method;
  std::string path;  // the target without its query
  std::string authorization;
  std::string body;
};

// Method, path and Authorization of a complete head, with `body`.
BufferedRequest bufferedRequest(std::string_view head, std::string body);

// A complete HTTP/1.1 response closing the connection.
std::string plainResponse(unsigned status, std::string_view reason);
std::string httpResponse(unsigned status, std::string_view contentType, std::string_view body);

}  // namespace chat::gateway
