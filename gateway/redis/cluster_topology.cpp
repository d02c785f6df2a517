#include "redis/cluster_topology.h"

#include "log/log.h"

namespace chat::gateway {
namespace {

// How long a command may wait for its slot's primary (a failover, a redirect
// to a node still connecting, TRYAGAIN during a slot move) before the caller
// hears it failed.
constexpr std::uint64_t kCommandPatienceMs = 2000;
constexpr int kMaxRedirects = 5;
constexpr std::chrono::milliseconds kRetryStep{20};
constexpr std::chrono::milliseconds kRefreshPeriod{3000};

}  // namespace

struct ClusterTopology::Request {
  std::uint16_t slot = 0;
  std::vector<std::string> argv;
  ReplyFn done;
  std::uint64_t deadline = 0;
  int redirects = 0;
  ClusterLink* askAt = nullptr;  // ASK: this node, this once, after ASKING
};

ClusterTopology::ClusterTopology(uv_loop_t* loop, common::RedisEndpoint endpoint,
                                 std::string clientName, std::chrono::milliseconds replyTimeout,
                                 bool sharded, TlsOptions tls)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      clientName_(std::move(clientName)),
      replyTimeout_(replyTimeout),
      sharded_(sharded),
      tls_(std::move(tls)),
      refreshTimer_(loop),
      retryTimer_(loop) {}

ClusterTopology::~ClusterTopology() {
  stop();
}

void ClusterTopology::start(Hooks hooks, ShardEvents& events) {
  hooks_ = std::move(hooks);
  events_ = &events;
  for (const auto& [host, port] : endpoint_.seeds)
    linkFor(ClusterNode{host, port});
  refreshTimer_.every(kRefreshPeriod, [this] { refresh(); });
}

void ClusterTopology::stop() {
  if (stopped_) return;
  stopped_ = true;
  refreshTimer_.stop();
  retryTimer_.stop();
  // Links report nothing from here: their pending callbacks see stopped_.
  for (auto& link : links_) {
    if (link->subscriber) link->subscriber->stop();
    link->commands->stop();
    if (link->tls) link->tls->stop();
  }
  for (auto& request : std::exchange(waiting_, {}))
    request->done(nullptr);
}

ClusterLink& ClusterTopology::linkFor(const ClusterNode& address) {
  for (auto& link : links_)
    if (link->address == address) return *link;
  auto link = std::make_unique<ClusterLink>();
  link->address = address;
  common::RedisEndpoint node;
  node.host = address.host;
  node.port = address.port;
  node.username = endpoint_.username;
  node.password = endpoint_.password;
  ClusterLink* raw = link.get();
  link->commands = std::make_unique<RedisConnection>(
      loop_, node, clientName_ + ":cmd",
      RedisConnection::Listener{.onUp =
                                    [this, raw] {
                                      if (stopped_) return;
                                      if (hooks_.onCommandLinkUp)
                                        hooks_.onCommandLinkUp(*raw->commands);
                                      refresh();
                                      if (hooks_.onHealthChange) hooks_.onHealthChange();
                                    },
                                .onDown =
                                    [this] {
                                      if (stopped_) return;
                                      refresh();  // its slots may have a new primary
                                      if (hooks_.onHealthChange) hooks_.onHealthChange();
                                    }},
      RedisConnection::Liveness{.replyTimeout = replyTimeout_, .pingWhenIdle = true});
  bool reachable = true;
  if (endpoint_.tls) {
    TlsOptions options = tls_;
    options.host = address.host;
    options.port = address.port;
    auto tunnel = std::make_unique<TlsTunnel>(loop_, options);
    std::string error;
    if (tunnel->start(error)) {
      raw->commands->connectVia(tunnel->socketPath());
      raw->tls = std::move(tunnel);
    } else {
      // Never in clear instead: the node stays unreachable.
      Log::error("redis_tls_failed", {{"node", address.address()}, {"detail", error}});
      reachable = false;
    }
  }
  links_.push_back(std::move(link));
  if (reachable) raw->commands->start();
  return *raw;
}

int ClusterTopology::indexOf(const ClusterLink& link) const {
  for (std::size_t i = 0; i < links_.size(); ++i)
    if (links_[i].get() == &link) return static_cast<int>(i);
  return -1;
}

void ClusterTopology::refresh() {
  if (stopped_) return;
  if (refreshing_) {
    refreshAgain_ = true;
    return;
  }
  // Any node will do; a primary's view is the freshest.
  ClusterLink* via = nullptr;
  for (auto& link : links_) {
    if (!link->commands->isUp()) continue;
    if (via == nullptr || (link->primary && !via->primary)) via = link.get();
  }
  if (via == nullptr) return;  // links reconnect on their own and ask again when up
  refreshing_ = true;
  via->commands->command({"CLUSTER", "SHARDS"}, [this](redisReply* reply) {
    if (stopped_) return;
    refreshing_ = false;
    if (auto shards = parseClusterShards(reply, endpoint_.tls); shards && !shards->empty()) {
      apply(*shards);
    } else if (reply != nullptr) {
      Log::warn("cluster_map_unreadable",
                {{"detail", reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                             : std::string("no shards")}});
    }
    if (std::exchange(refreshAgain_, false)) refresh();
  });
}

void ClusterTopology::apply(const std::vector<ClusterShard>& shards) {
  SlotMap next;
  std::vector<bool> primary(links_.size(), false);
  for (const auto& shard : shards) {
    ClusterLink& link = linkFor(shard.primary);
    link.id = shard.primaryId;
    const int index = indexOf(link);
    primary.resize(links_.size(), false);
    primary[static_cast<std::size_t>(index)] = true;
    for (const auto& [from, to] : shard.slots)
      next.assign(from, to, index);
  }
  bool changed = false;
  for (std::size_t slot = 0; slot < kClusterSlots && !changed; ++slot)
    changed = next.ownerOf(static_cast<std::uint16_t>(slot)) !=
              slots_.ownerOf(static_cast<std::uint16_t>(slot));
  slots_ = next;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    ClusterLink& link = *links_[i];
    if (link.primary != primary[i]) changed = true;
    link.primary = primary[i];
    if (link.primary && !link.subscriber) {
      link.subscriber = std::make_unique<ShardSubscriber>(
          loop_, link.address, ShardSubscriber::Credentials{endpoint_.username, endpoint_.password},
          clientName_ + ":sub", replyTimeout_,
          ShardSubscriber::Listener{
              .onUp =
                  [this, &link] {
                    events_->onSubscriberUp(link);
                    if (hooks_.onHealthChange) hooks_.onHealthChange();
                  },
              .onDown =
                  [this, &link] {
                    events_->onSubscriberDown(link);
                    refresh();
                    if (hooks_.onHealthChange) hooks_.onHealthChange();
                  },
              .onSubscribed = [this, &link](std::string_view c) { events_->onSubscribed(link, c); },
              .onUnsubscribed =
                  [this, &link](std::string_view c) {
                    events_->onUnsubscribed(link, c);
                    refresh();
                  },
              .onRefused = [this, &link](std::string_view c,
                                         std::string_view e) { events_->onRefused(link, c, e); },
              .onMessage = [this](std::string_view c,
                                  std::string_view p) { events_->onMessage(c, p); }},
          sharded_);
      if (link.tls) link.subscriber->connectVia(link.tls->socketPath());
      if (!endpoint_.tls || link.tls) link.subscriber->start();
    }
  }
  if (changed) {
    Log::info("cluster_map", {{"shards", std::to_string(shards.size())}});
    if (hooks_.onHealthChange) hooks_.onHealthChange();
  }
  // Also when nothing changed: subscriptions a node refused are placed again.
  events_->onSlotsChanged();
  retryWaiting();
}

void ClusterTopology::learn(const Redirect& redirect) {
  if (redirect.kind == Redirect::Kind::kMoved)
    slots_.setOwner(redirect.slot, indexOf(linkFor(redirect.target)));
  refresh();
}

ClusterLink* ClusterTopology::ownerOf(std::string_view keyOrChannel) {
  const int owner = slots_.ownerOf(hashSlot(keyOrChannel));
  return owner < 0 ? nullptr : links_[static_cast<std::size_t>(owner)].get();
}

bool ClusterTopology::command(std::string_view room, const std::vector<std::string_view>& argv,
                              ReplyFn fn) {
  if (stopped_) return false;
  // Every key of a room carries its tag: the slot is the tag's.
  const std::uint16_t slot = hashSlot("{" + std::string(room) + "}");
  const int ownerIndex = slots_.ownerOf(slot);
  ClusterLink* owner =
      ownerIndex < 0 ? nullptr : links_[static_cast<std::size_t>(ownerIndex)].get();
  // The room's primary is known to be unreachable: unavailable now, not later.
  if (owner == nullptr || !owner->commands->isUp()) return false;
  auto request = std::make_shared<Request>();
  request->slot = slot;
  request->argv.assign(argv.begin(), argv.end());
  request->done = std::move(fn);
  request->deadline = uv_now(loop_) + kCommandPatienceMs;
  dispatch(std::move(request));
  return true;
}

void ClusterTopology::dispatch(std::shared_ptr<Request> request) {
  ClusterLink* target = request->askAt;
  if (target == nullptr) {
    const int owner = slots_.ownerOf(request->slot);
    if (owner >= 0) target = links_[static_cast<std::size_t>(owner)].get();
  }
  if (target == nullptr || !target->commands->isUp()) {
    wait(std::move(request));
    return;
  }
  std::vector<std::string_view> argv(request->argv.begin(), request->argv.end());
  std::string livePrimaries;  // outlives the send below, which copies it
  for (auto& arg : argv) {
    if (arg == kPrimaryIdArg) arg = target->id;
    if (arg == kLivePrimariesArg) {
      livePrimaries = livePrimariesBesides(*target);
      arg = livePrimaries;
    }
  }
  if (request->askAt != nullptr) {
    target->commands->command({"ASKING"}, [](redisReply*) {});
    request->askAt = nullptr;
  }
  if (!target->commands->command(argv,
                                 [this, request](redisReply* reply) { onReply(request, reply); }))
    wait(std::move(request));
}

void ClusterTopology::onReply(const std::shared_ptr<Request>& request, redisReply* reply) {
  if (stopped_ || reply == nullptr || reply->type != REDIS_REPLY_ERROR) {
    // A link that died with the command in flight: it may have run, so it is
    // not sent again (a store's retry is the client's, under its ref).
    request->done(reply);
    return;
  }
  const auto redirect = parseRedirect(std::string_view(reply->str, reply->len));
  if (!redirect || request->redirects >= kMaxRedirects) {
    request->done(reply);
    return;
  }
  ++request->redirects;
  switch (redirect->kind) {
    case Redirect::Kind::kMoved:
      learn(*redirect);
      dispatch(request);
      break;
    case Redirect::Kind::kAsk:
      request->askAt = &linkFor(redirect->target);
      dispatch(request);
      break;
    case Redirect::Kind::kClusterDown:
      refresh();
      [[fallthrough]];
    case Redirect::Kind::kTryAgain:
      wait(request);
      break;
  }
}

void ClusterTopology::wait(std::shared_ptr<Request> request) {
  if (uv_now(loop_) >= request->deadline) {
    request->done(nullptr);
    return;
  }
  waiting_.push_back(std::move(request));
  if (!retryTimer_.active()) retryTimer_.once(kRetryStep, [this] { retryWaiting(); });
}

void ClusterTopology::retryWaiting() {
  if (stopped_) return;
  for (auto& request : std::exchange(waiting_, {}))
    dispatch(std::move(request));
}

std::string ClusterTopology::livePrimariesBesides(const ClusterLink& target) const {
  std::string ids = " ";
  for (const auto& link : links_)
    if (link.get() != &target && link->primary && !link->id.empty() && link->commands->isUp())
      ids += link->id + " ";
  return ids;
}

std::size_t ClusterTopology::shardCount() const {
  std::size_t n = 0;
  for (const auto& link : links_)
    n += link->primary ? 1 : 0;
  return n;
}

std::size_t ClusterTopology::shardsUp() const {
  std::size_t n = 0;
  for (const auto& link : links_)
    n += link->primary && link->commands->isUp() && link->subscriber && link->subscriber->isUp();
  return n;
}

bool ClusterTopology::anyCommandLinkUp() const {
  for (const auto& link : links_)
    if (link->primary && link->commands->isUp()) return true;
  return false;
}

bool ClusterTopology::anySubscriberUp() const {
  for (const auto& link : links_)
    if (link->primary && link->subscriber && link->subscriber->isUp()) return true;
  return false;
}

std::string ClusterTopology::downShards() const {
  std::string down;
  for (const auto& link : links_) {
    if (!link->primary) continue;
    if (link->commands->isUp() && link->subscriber && link->subscriber->isUp()) continue;
    down += (down.empty() ? "" : ", ") + link->address.address();
  }
  return down;
}

unsigned ClusterTopology::commandReconnects() const {
  unsigned n = 0;
  for (const auto& link : links_)
    n += link->commands->reconnects();
  return n;
}

unsigned ClusterTopology::subscriberReconnects() const {
  unsigned n = 0;
  for (const auto& link : links_)
    n += link->subscriber ? link->subscriber->reconnects() : 0;
  return n;
}

void ClusterTopology::readPending(int maxReads) {
  // By index: a reply read here may redirect to a node not linked yet, and
  // linking it grows links_.
  for (std::size_t i = 0; i < links_.size(); ++i)
    if (links_[i]->primary) links_[i]->commands->readPending(maxReads);
}

void ClusterTopology::flush(std::function<void()> done) {
  auto remaining = std::make_shared<std::size_t>(1);
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  const auto answered = [remaining, finish](redisReply*) {
    if (--*remaining == 0) (*finish)();
  };
  for (auto& link : links_)
    if (link->primary && link->commands->command({"PING"}, answered)) ++*remaining;
  answered(nullptr);  // the count's own 1
}

}  // namespace chat::gateway
