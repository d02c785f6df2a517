#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for tests that need a peer the gateway
// fetches from (a JWKS). It answers every GET with the current status and
// body, one request per connection, and counts the requests. Its thread
// polls with a short timeout, so stop() (and the destructor) end it promptly.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace chat::testing {

class StaticHttpServer {
 public:
  StaticHttpServer();
  ~StaticHttpServer();
  StaticHttpServer(const StaticHttpServer&) = delete;
  StaticHttpServer& operator=(const StaticHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  // What every following request gets.
  void serve(unsigned status, std::string body);
  int requests() const { return requests_.load(); }
  void stop();

 private:
  void run();
  void answer(int fd);

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  unsigned status_ = 404;
  std::string body_;
  std::thread thread_;
};

}  // namespace chat::testing
