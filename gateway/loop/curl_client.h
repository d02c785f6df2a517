#pragma once
// HTTP GETs with libcurl's multi interface on the libuv loop: curl says which
// sockets to watch (uv_poll) and when to call it back (a Timer), so a fetch
// never blocks the loop (name lookups run on libcurl's resolver thread).
// Each GET is bounded: 5 s in all, 1 MiB of body, http and https only, at most
// three redirects. Loop thread only.

#include <curl/curl.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "loop/uv_handles.h"

namespace chat::gateway {

class CurlClient {
 public:
  struct Response {
    long status = 0;  // HTTP status; 0 when there was no answer
    std::string body;
    std::string error;  // why the transfer failed; empty on an answer
  };
  using Done = std::function<void(Response)>;

  explicit CurlClient(uv_loop_t* loop);
  // Abandons transfers in flight (their callbacks do not run).
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  void get(const std::string& url, Done done);
  // Abandons every transfer in flight; the client stays usable.
  void cancelAll();

 private:
  struct Transfer {
    CURL* easy = nullptr;
    std::string body;
    Done done;
    bool tooLarge = false;
  };
  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* self, void* poll);
  static int onTimeout(CURLM* multi, long timeoutMs, void* self);
  static void onPoll(uv_poll_t* poll, int status, int events);
  static std::size_t onBody(char* data, std::size_t size, std::size_t count, void* transfer);
  void act(curl_socket_t fd, int events);
  void finishTransfers();

  uv_loop_t* loop_;
  CURLM* multi_;
  Timer timer_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace chat::gateway
