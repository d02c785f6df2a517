#include "redis/tls_tunnel.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "log/log.h"

namespace chat::gateway {
namespace {

std::string sslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

bool isIpAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

struct WriteRequest {
  uv_write_t request;
  std::string data;
};

void writeTo(uv_stream_t* stream, std::string data) {
  auto* w = new WriteRequest;
  w->data = std::move(data);
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->request, stream, &buf, 1,
               [](uv_write_t* r, int) { delete reinterpret_cast<WriteRequest*>(r); }) != 0)
    delete w;
}

void allocate(uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
  buf->base = static_cast<char*>(std::malloc(suggested));
  buf->len = buf->base != nullptr ? suggested : 0;
}

}  // namespace

// One hiredis connection: the local Unix stream, the TCP stream to Redis, and
// the TLS session between them. Deletes itself once both handles closed.
class TlsTunnel::Link {
 public:
  Link(TlsTunnel& tunnel) : tunnel_(tunnel) {
    uv_pipe_init(tunnel.loop_, &local_, 0);
    uv_tcp_init(tunnel.loop_, &remote_);
    local_.data = this;
    remote_.data = this;
    resolve_.data = this;
    connect_.data = this;
  }

  uv_stream_t* localStream() { return reinterpret_cast<uv_stream_t*>(&local_); }

  void start() {
    uv_read_start(localStream(), allocate, onLocalRead);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const std::string port = std::to_string(tunnel_.options_.port);
    if (uv_getaddrinfo(tunnel_.loop_, &resolve_, onResolved, tunnel_.options_.host.c_str(),
                       port.c_str(), &hints) != 0)
      fail("cannot resolve the Redis host");
    else
      ++pending_;
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    tunnel_.forget(this);
    auto onClosed = [](uv_handle_t* h) {
      auto* self = static_cast<Link*>(h->data);
      if (--self->openHandles_ == 0 && self->pending_ == 0) delete self;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&local_), onClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&remote_), onClosed);
  }

  ~Link() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs too
  }

 private:
  void fail(const std::string& why) {
    if (!closing_) Log::warn("redis_tls_failed", {{"detail", why}});
    close();
  }

  // Request callbacks may outlive close(); the last one out deletes.
  bool finishRequest() {
    --pending_;
    if (closing_) {
      if (openHandles_ == 0 && pending_ == 0) delete this;
      return false;
    }
    return true;
  }

  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
    auto* self = static_cast<Link*>(req->data);
    if (!self->finishRequest()) {
      uv_freeaddrinfo(result);
      return;
    }
    if (status != 0 || result == nullptr) {
      uv_freeaddrinfo(result);
      self->fail("cannot resolve the Redis host");
      return;
    }
    const int rc = uv_tcp_connect(&self->connect_, &self->remote_, result->ai_addr, onConnected);
    uv_freeaddrinfo(result);
    if (rc != 0) {
      self->fail(uv_strerror(rc));
      return;
    }
    ++self->pending_;
  }

  static void onConnected(uv_connect_t* req, int status) {
    auto* self = static_cast<Link*>(req->data);
    if (!self->finishRequest()) return;
    if (status != 0) {
      self->fail(uv_strerror(status));
      return;
    }
    self->startTls();
  }

  void startTls() {
    ssl_ = SSL_new(tunnel_.ssl_);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in, out);
    in_ = in;
    out_ = out;
    const std::string& host = tunnel_.options_.host;
    if (!isIpAddress(host)) SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (tunnel_.options_.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (isIpAddress(host))
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    SSL_set_connect_state(ssl_);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&remote_), allocate, onRemoteRead);
    advance();
  }

  // Moves the handshake on, then all plaintext both ways, then the ciphertext out.
  void advance() {
    if (!established_) {
      const int rc = SSL_do_handshake(ssl_);
      if (rc == 1) {
        established_ = true;
      } else {
        const int err = SSL_get_error(ssl_, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          const long verify = SSL_get_verify_result(ssl_);
          fail(verify != X509_V_OK ? X509_verify_cert_error_string(verify) : sslError());
          return;
        }
      }
    }
    if (established_ && !toRedis_.empty()) {
      const int n = SSL_write(ssl_, toRedis_.data(), static_cast<int>(toRedis_.size()));
      if (n > 0) toRedis_.erase(0, static_cast<std::size_t>(n));
    }
    if (established_) {
      char plain[16 * 1024];
      std::string fromRedis;
      int n;
      while ((n = SSL_read(ssl_, plain, sizeof plain)) > 0)
        fromRedis.append(plain, n);
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN ||
          (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)) {
        if (!fromRedis.empty()) writeTo(localStream(), std::move(fromRedis));
        fail(err == SSL_ERROR_ZERO_RETURN ? "Redis closed the TLS session" : sslError());
        return;
      }
      if (!fromRedis.empty()) writeTo(localStream(), std::move(fromRedis));
    }
    flushCiphertext();
  }

  void flushCiphertext() {
    char buffer[16 * 1024];
    std::string data;
    int n;
    while ((n = BIO_read(out_, buffer, sizeof buffer)) > 0)
      data.append(buffer, n);
    if (!data.empty()) writeTo(reinterpret_cast<uv_stream_t*>(&remote_), std::move(data));
  }

  static void onLocalRead(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* self = static_cast<Link*>(stream->data);
    if (n > 0 && !self->closing_) {
      self->toRedis_.append(buf->base, static_cast<std::size_t>(n));
      if (self->ssl_ != nullptr) self->advance();
    } else if (n < 0) {
      self->close();  // hiredis went away
    }
    std::free(buf->base);
  }

  static void onRemoteRead(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* self = static_cast<Link*>(stream->data);
    if (n > 0 && !self->closing_) {
      BIO_write(self->in_, buf->base, static_cast<int>(n));
      self->advance();
    } else if (n < 0) {
      self->fail(n == UV_EOF ? "Redis closed the connection" : uv_strerror(static_cast<int>(n)));
    }
    std::free(buf->base);
  }

  TlsTunnel& tunnel_;
  uv_pipe_t local_;
  uv_tcp_t remote_;
  uv_getaddrinfo_t resolve_;
  uv_connect_t connect_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;    // ciphertext from Redis, owned by ssl_
  BIO* out_ = nullptr;   // ciphertext to Redis, owned by ssl_
  std::string toRedis_;  // plaintext from hiredis not yet taken by TLS
  bool established_ = false;
  bool closing_ = false;
  int openHandles_ = 2;
  int pending_ = 0;
};

TlsTunnel::TlsTunnel(uv_loop_t* loop, TlsOptions options)
    : loop_(loop), options_(std::move(options)) {}

TlsTunnel::~TlsTunnel() {
  stop();
  if (ssl_ != nullptr) SSL_CTX_free(ssl_);
}

bool TlsTunnel::start(std::string& error) {
  ssl_ = SSL_CTX_new(TLS_client_method());
  if (ssl_ == nullptr) {
    error = sslError();
    return false;
  }
  SSL_CTX_set_min_proto_version(ssl_, TLS1_2_VERSION);
  if (options_.verify) {
    SSL_CTX_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_default_verify_paths(ssl_);
    if (!options_.caFile.empty() &&
        SSL_CTX_load_verify_locations(ssl_, options_.caFile.c_str(), nullptr) != 1) {
      error = "REDIS_TLS_CA: cannot load " + options_.caFile + ": " + sslError();
      return false;
    }
  } else {
    SSL_CTX_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
  }

  char directory[] = "/tmp/chat-gateway-tls-XXXXXX";  // mkdtemp makes it 0700
  if (mkdtemp(directory) == nullptr) {
    error = std::string("cannot make a private directory: ") + std::strerror(errno);
    return false;
  }
  directory_ = directory;
  socketPath_ = directory_ + "/redis.sock";
  server_ = new uv_pipe_t;
  uv_pipe_init(loop_, server_, 0);
  server_->data = this;
  int rc = uv_pipe_bind(server_, socketPath_.c_str());
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_), 16, onConnection);
  if (rc != 0) {
    error = std::string("cannot listen on ") + socketPath_ + ": " + uv_strerror(rc);
    stop();
    return false;
  }
  return true;
}

void TlsTunnel::stop() {
  for (Link* link : std::vector<Link*>(links_.begin(), links_.end()))
    link->close();
  if (server_ != nullptr) {
    server_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(server_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
    server_ = nullptr;
  }
  if (!socketPath_.empty()) ::unlink(socketPath_.c_str());
  if (!directory_.empty()) ::rmdir(directory_.c_str());
  socketPath_.clear();
  directory_.clear();
}

void TlsTunnel::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<TlsTunnel*>(server->data);
  if (self == nullptr || status != 0) return;
  auto* link = new Link(*self);
  if (uv_accept(server, link->localStream()) != 0) {
    link->close();
    return;
  }
  self->links_.insert(link);
  link->start();
}

}  // namespace chat::gateway
