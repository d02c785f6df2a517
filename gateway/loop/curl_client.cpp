#include "loop/curl_client.h"

#include <mutex>

namespace chat::gateway {
namespace {

constexpr long kTimeoutMs = 5000;
constexpr long kConnectTimeoutMs = 3000;
constexpr std::size_t kMaxBody = 1 << 20;

}  // namespace

CurlClient::CurlClient(uv_loop_t* loop) : loop_(loop), multi_(nullptr), timer_(loop) {
  static std::once_flag globalInit;
  std::call_once(globalInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlClient::onSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlClient::onTimeout);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlClient::~CurlClient() {
  cancelAll();
  // Closes the sockets curl still holds (onSocket REMOVE closes their polls).
  curl_multi_cleanup(multi_);
}

void CurlClient::cancelAll() {
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  transfers_.clear();
  timer_.stop();
}

void CurlClient::get(const std::string& url, Done done) {
  auto transfer = std::make_unique<Transfer>();
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    done({0, {}, "curl_easy_init failed"});
    return;
  }
  transfer->easy = easy;
  transfer->done = std::move(done);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlClient::onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, kTimeoutMs);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "chat-gateway");
  transfers_.emplace(easy, std::move(transfer));
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    Done failed = std::move(transfers_[easy]->done);
    transfers_.erase(easy);
    curl_easy_cleanup(easy);
    failed({0, {}, "curl_multi_add_handle failed"});
  }
}

std::size_t CurlClient::onBody(char* data, std::size_t size, std::size_t count, void* raw) {
  auto* transfer = static_cast<Transfer*>(raw);
  const std::size_t bytes = size * count;
  if (transfer->body.size() + bytes > kMaxBody) {
    transfer->tooLarge = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

int CurlClient::onSocket(CURL*, curl_socket_t fd, int what, void* raw, void* pollData) {
  auto* self = static_cast<CurlClient*>(raw);
  auto* poll = static_cast<uv_poll_t*>(pollData);
  if (what == CURL_POLL_REMOVE) {
    if (poll != nullptr) {
      uv_poll_stop(poll);
      closeAndFree(poll);
      curl_multi_assign(self->multi_, fd, nullptr);
    }
    return 0;
  }
  if (poll == nullptr) {
    poll = new uv_poll_t;
    if (uv_poll_init_socket(self->loop_, poll, fd) != 0) {
      delete poll;  // never a libuv handle: curl fails the transfer
      return -1;
    }
    poll->data = self;
    curl_multi_assign(self->multi_, fd, poll);
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  return uv_poll_start(poll, events, &CurlClient::onPoll) == 0 ? 0 : -1;
}

int CurlClient::onTimeout(CURLM*, long timeoutMs, void* raw) {
  auto* self = static_cast<CurlClient*>(raw);
  if (timeoutMs < 0) {
    self->timer_.stop();
    return 0;
  }
  // curl must not be called back from inside this callback: the timer does it.
  self->timer_.once(std::chrono::milliseconds(timeoutMs),
                    [self] { self->act(CURL_SOCKET_TIMEOUT, 0); });
  return 0;
}

void CurlClient::onPoll(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<CurlClient*>(poll->data);
  if (self == nullptr) return;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &fd) != 0) return;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if ((events & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
  if ((events & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
  self->act(static_cast<curl_socket_t>(fd), flags);
}

void CurlClient::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  finishTransfers();
}

void CurlClient::finishTransfers() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode result = message->data.result;
    const auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    Response response;
    if (result == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
      response.body = std::move(transfer->body);
    } else {
      response.error = transfer->tooLarge ? "body larger than 1 MiB" : curl_easy_strerror(result);
    }
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    // Last: the callback may start another transfer.
    transfer->done(std::move(response));
  }
}

}  // namespace chat::gateway
