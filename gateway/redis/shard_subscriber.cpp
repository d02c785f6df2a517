#include "redis/shard_subscriber.h"

#include <hiredis/hiredis.h>

#include <cstring>

#include "log/log.h"
#include "redis/redis_connection.h"

namespace chat::gateway {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                 r->type == REDIS_REPLY_ERROR
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

struct WriteRequest {
  uv_write_t request;
  char* bytes;
};

}  // namespace

// Holds the owner through a shared slot: stop() clears it, and a lookup that
// completes after that only frees itself.
struct ShardSubscriber::Resolve {
  uv_getaddrinfo_t request;
  std::shared_ptr<ShardSubscriber*> owner;
};

ShardSubscriber::ShardSubscriber(uv_loop_t* loop, ClusterNode node, Credentials credentials,
                                 std::string clientName, std::chrono::milliseconds replyTimeout,
                                 Listener listener, bool sharded)
    : loop_(loop),
      node_(std::move(node)),
      credentials_(std::move(credentials)),
      clientName_(std::move(clientName)),
      replyTimeout_(replyTimeout),
      listener_(std::move(listener)),
      sharded_(sharded),
      readBuffer_(kReadChunk),
      retryTimer_(loop),
      livenessTimer_(loop) {}

ShardSubscriber::~ShardSubscriber() {
  stop();
}

void ShardSubscriber::start() {
  if (state_ == State::kIdle) connect();
}

void ShardSubscriber::stop() {
  state_ = State::kStopped;
  retryTimer_.stop();
  livenessTimer_.stop();
  if (resolving_) *resolving_ = nullptr;
  resolving_.reset();
  closeSocket();
}

void ShardSubscriber::closeSocket() {
  pending_.clear();
  if (reader_ != nullptr) {
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
  if (socket_ != nullptr) {
    if (socket_->type == UV_NAMED_PIPE)
      closeAndFree(reinterpret_cast<uv_pipe_t*>(socket_));
    else
      closeAndFree(reinterpret_cast<uv_tcp_t*>(socket_));
    socket_ = nullptr;
  }
}

void ShardSubscriber::connect() {
  if (!viaSocket_.empty()) {
    connectToSocketFile();
    return;
  }
  sockaddr_storage address{};
  if (uv_ip4_addr(node_.host.c_str(), node_.port, reinterpret_cast<sockaddr_in*>(&address)) == 0 ||
      uv_ip6_addr(node_.host.c_str(), node_.port, reinterpret_cast<sockaddr_in6*>(&address)) == 0) {
    connectTo(reinterpret_cast<const sockaddr*>(&address));
    return;
  }
  // A host name: looked up on libuv's thread pool, so the loop never blocks.
  state_ = State::kResolving;
  resolving_ = std::make_shared<ShardSubscriber*>(this);
  auto* lookup = new Resolve{{}, resolving_};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(node_.port);
  const int rc = uv_getaddrinfo(
      loop_, &lookup->request,
      [](uv_getaddrinfo_t* request, int status, addrinfo* result) {
        std::unique_ptr<Resolve> done(reinterpret_cast<Resolve*>(request));
        ShardSubscriber* self = *done->owner;
        if (self != nullptr) {
          self->resolving_.reset();
          if (status == 0 && result != nullptr)
            self->connectTo(result->ai_addr);
          else
            self->fail("cannot resolve the node's host");
        }
        uv_freeaddrinfo(result);
      },
      node_.host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    delete lookup;
    resolving_.reset();
    fail("cannot resolve the node's host");
  }
}

void ShardSubscriber::connectToSocketFile() {
  state_ = State::kConnecting;
  auto* pipe = new uv_pipe_t;
  uv_pipe_init(loop_, pipe, 0);
  pipe->data = this;
  socket_ = reinterpret_cast<uv_stream_t*>(pipe);
  uv_pipe_connect(new uv_connect_t, pipe, viaSocket_.c_str(), onConnect);
  watchConnect();
}

void ShardSubscriber::connectTo(const sockaddr* address) {
  state_ = State::kConnecting;
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  tcp->data = this;
  socket_ = reinterpret_cast<uv_stream_t*>(tcp);
  uv_tcp_nodelay(tcp, 1);
  uv_tcp_keepalive(tcp, 1, 15);
  auto* request = new uv_connect_t;
  if (uv_tcp_connect(request, tcp, address, onConnect) != 0) {
    delete request;
    fail("connect failed");
    return;
  }
  watchConnect();
}

void ShardSubscriber::watchConnect() {
  // A connect that never completes (packets dropped) is cut like a dead link.
  lastInputAt_ = uv_now(loop_);
  pending_.push_back({Pending::Kind::kHandshake, {}, uv_now(loop_)});
  livenessTimer_.every(std::max(replyTimeout_ / 4, std::chrono::milliseconds(10)),
                       [this] { checkLiveness(); });
}

void ShardSubscriber::onConnect(uv_connect_t* request, int status) {
  auto* self = static_cast<ShardSubscriber*>(request->handle->data);
  delete request;
  if (self == nullptr) return;  // closed meanwhile
  if (status != 0) {
    self->fail(uv_strerror(status));
    return;
  }
  self->state_ = State::kHandshake;
  self->pending_.clear();
  self->reader_ = redisReaderCreate();
  uv_read_start(
      self->socket_,
      [](uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
        auto* owner = static_cast<ShardSubscriber*>(handle->data);
        *buf = uv_buf_init(owner->readBuffer_.data(),
                           static_cast<unsigned>(owner->readBuffer_.size()));
      },
      onRead);
  const auto& c = self->credentials_;
  if (!c.password.empty()) {
    if (c.username.empty())
      self->send({"AUTH", c.password}, Pending::Kind::kHandshake, {});
    else
      self->send({"AUTH", c.username, c.password}, Pending::Kind::kHandshake, {});
  }
  self->send({"CLIENT", "SETNAME", self->clientName_}, Pending::Kind::kHandshake, {});
}

void ShardSubscriber::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ShardSubscriber*>(stream->data);
  if (self == nullptr) return;
  if (nread < 0) {
    self->fail(nread == UV_EOF ? "closed by Redis" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  self->onData(buf->base, static_cast<std::size_t>(nread));
}

void ShardSubscriber::onData(const char* data, std::size_t size) {
  lastInputAt_ = uv_now(loop_);
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) {
    fail("unreadable reply");
    return;
  }
  // A listener may stop or fail this link: the reader is then gone.
  while (reader_ != nullptr) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
      fail("unreadable reply");
      return;
    }
    if (reply == nullptr) return;
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(static_cast<redisReply*>(reply),
                                                                  freeReplyObject);
    dispatch(owned.get());
  }
}

void ShardSubscriber::dispatch(const redisReply* reply) {
  if (state_ == State::kHandshake) {
    if (reply->type == REDIS_REPLY_ERROR) {
      Log::error("redis_handshake_failed", {{"node", node_.address()}, {"detail", text(reply)}});
      fail("handshake refused");
      return;
    }
    if (!pending_.empty()) pending_.pop_front();
    if (pending_.empty()) {
      state_ = State::kUp;
      attempt_ = 0;
      if (listener_.onUp) listener_.onUp();
    }
    return;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    if (pending_.empty()) return;
    Pending front = std::move(pending_.front());
    pending_.pop_front();
    if (front.kind == Pending::Kind::kSubscribe) listener_.onRefused(front.channel, text(reply));
    return;
  }
  if (reply->type == REDIS_REPLY_STATUS) {
    // PING on a link with no subscription yet: a plain +PONG.
    if (!pending_.empty() && pending_.front().kind == Pending::Kind::kPing) pending_.pop_front();
    return;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING)
    return;
  const std::string_view kind = text(reply->element[0]);
  const std::string_view channel = text(reply->element[1]);
  const auto answers = [&](Pending::Kind wanted) {
    if (pending_.empty() || pending_.front().kind != wanted) return false;
    if (wanted != Pending::Kind::kPing && pending_.front().channel != channel) return false;
    pending_.pop_front();
    return true;
  };
  // Classic pub/sub names the same pushes without the s.
  const std::string_view base = sharded_ && kind.size() > 1 && kind.front() == 's'
                                    ? kind.substr(1)
                                    : (sharded_ ? std::string_view{} : kind);
  if (base == "message" && reply->elements == 3) {
    listener_.onMessage(channel, text(reply->element[2]));
  } else if (base == "subscribe") {
    answers(Pending::Kind::kSubscribe);
    listener_.onSubscribed(channel);
  } else if (base == "unsubscribe") {
    answers(Pending::Kind::kUnsubscribe);  // else Redis pushed it: the slot moved
    listener_.onUnsubscribed(channel);
  } else if (kind == "pong") {
    answers(Pending::Kind::kPing);
  }
}

bool ShardSubscriber::subscribe(std::string_view channel) {
  if (!isUp()) return false;
  send({sharded_ ? "SSUBSCRIBE" : "SUBSCRIBE", channel}, Pending::Kind::kSubscribe, channel);
  return true;
}

bool ShardSubscriber::unsubscribe(std::string_view channel) {
  if (!isUp()) return false;
  send({sharded_ ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", channel}, Pending::Kind::kUnsubscribe, channel);
  return true;
}

void ShardSubscriber::send(std::vector<std::string_view> argv, Pending::Kind kind,
                           std::string_view channel) {
  std::vector<const char*> parts;
  std::vector<std::size_t> lengths;
  for (const auto& arg : argv) {
    parts.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const long long size =
      redisFormatCommandArgv(&command, static_cast<int>(argv.size()), parts.data(), lengths.data());
  if (size < 0) {
    fail("cannot format a command");
    return;
  }
  auto* write = new WriteRequest{{}, command};
  const uv_buf_t buf = uv_buf_init(command, static_cast<unsigned>(size));
  const int rc = uv_write(&write->request, socket_, &buf, 1, [](uv_write_t* request, int) {
    auto* done = reinterpret_cast<WriteRequest*>(request);
    redisFreeCommand(done->bytes);
    delete done;
  });
  if (rc != 0) {
    redisFreeCommand(command);
    delete write;
    fail("write failed");
    return;
  }
  pending_.push_back({kind, std::string(channel), uv_now(loop_)});
}

void ShardSubscriber::checkLiveness() {
  const std::uint64_t now = uv_now(loop_);
  const auto timeout = static_cast<std::uint64_t>(replyTimeout_.count());
  if (!pending_.empty() && now - pending_.front().sentAt > timeout) {
    fail("no reply within REDIS_TIMEOUT");
    return;
  }
  if (state_ == State::kUp && pending_.empty() && now - lastInputAt_ > timeout / 2)
    send({"PING"}, Pending::Kind::kPing, {});
}

void ShardSubscriber::fail(std::string_view reason) {
  if (state_ == State::kStopped) return;
  const bool wasUp = state_ == State::kUp;
  Log::warn("redis_down", {{"conn", clientName_}, {"node", node_.address()}, {"reason", reason}});
  closeSocket();
  livenessTimer_.stop();
  state_ = State::kIdle;
  ++reconnects_;
  retryTimer_.once(redisReconnectDelay(attempt_++), [this] {
    if (state_ == State::kIdle) connect();
  });
  if (wasUp && listener_.onDown) listener_.onDown();
}

}  // namespace chat::gateway
