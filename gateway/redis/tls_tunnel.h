#pragma once
// TLS to Redis (rediss://, as Heroku Redis requires) for hiredis 0.14, which
// has no TLS of its own.
//
// Design: an in-process TLS tunnel on the gateway's own libuv loop. It listens
// on a Unix socket in a private 0700 directory; each hiredis connection
// connects there (redisAsyncConnectUnix) and the tunnel opens a TCP connection
// to Redis, runs OpenSSL over it through memory BIOs, and pumps bytes both
// ways. So hiredis stays unchanged, TLS adds no thread and no process to
// supervise (unlike stunnel), both Redis connections keep their own TLS
// session, and a failed handshake or verification simply looks like a dropped
// connection to hiredis, which reconnects with backoff as for any outage.
// Loop thread only.

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

namespace chat::gateway {

struct TlsOptions {
  std::string host;
  std::uint16_t port = 6380;
  bool verify = true;  // certificate chain and host name
  std::string caFile;  // extra trust anchors (PEM); the system store is always used
};

class TlsTunnel {
 public:
  class Link;

  TlsTunnel(uv_loop_t* loop, TlsOptions options);
  ~TlsTunnel();
  TlsTunnel(const TlsTunnel&) = delete;
  TlsTunnel& operator=(const TlsTunnel&) = delete;

  // Creates the TLS context and the Unix socket; false with `error` set.
  bool start(std::string& error);
  // Where hiredis connects.
  const std::string& socketPath() const { return socketPath_; }
  // Closes the listener and every link.
  void stop();

 private:
  friend class Link;
  static void onConnection(uv_stream_t* server, int status);
  void forget(Link* link) { links_.erase(link); }

  uv_loop_t* loop_;
  TlsOptions options_;
  SSL_CTX* ssl_ = nullptr;
  std::string directory_;
  std::string socketPath_;
  uv_pipe_t* server_ = nullptr;
  std::unordered_set<Link*> links_;
};

}  // namespace chat::gateway
