#include "redis/cluster_map.h"

#include <charconv>

namespace chat::gateway {
namespace {

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

template <typename Int>
std::optional<Int> number(std::string_view s) {
  Int value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<long long> integer(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  return number<long long>(text(r));
}

// The value under `key` in a RESP2 flat map ([k1, v1, k2, v2, ...]).
const redisReply* field(const redisReply* map, std::string_view key) {
  if (map->type != REDIS_REPLY_ARRAY) return nullptr;
  for (std::size_t i = 0; i + 1 < map->elements; i += 2)
    if (text(map->element[i]) == key) return map->element[i + 1];
  return nullptr;
}

// The shard's online primary, its id, and the ids of its other nodes.
bool readNodes(const redisReply* nodes, ClusterShard& shard, bool tls) {
  bool found = false;
  for (std::size_t i = 0; i < nodes->elements; ++i) {
    const redisReply* node = nodes->element[i];
    const redisReply* id = field(node, "id");
    const std::string nodeId(id != nullptr ? text(id) : std::string_view{});
    const redisReply* role = field(node, "role");
    const redisReply* health = field(node, "health");
    const redisReply* ip = field(node, "ip");
    const redisReply* endpoint = field(node, "endpoint");
    const redisReply* tlsPort = tls ? field(node, "tls-port") : nullptr;
    const redisReply* port = tlsPort != nullptr ? tlsPort : field(node, "port");
    const bool primary = role != nullptr && text(role) == "master" && port != nullptr &&
                         (health == nullptr || text(health) == "online");
    if (!primary || found) {
      if (!nodeId.empty()) shard.peerIds.push_back(nodeId);
      continue;
    }
    // The announced endpoint when there is one ("?" means unknown), else the IP.
    std::string_view host = endpoint != nullptr ? text(endpoint) : std::string_view{};
    if (host.empty() || host == "?") host = ip != nullptr ? text(ip) : std::string_view{};
    const auto portNumber = integer(port);
    if (host.empty() || !portNumber || *portNumber <= 0 || *portNumber > 65535) continue;
    shard.primary = ClusterNode{std::string(host), static_cast<std::uint16_t>(*portNumber)};
    shard.primaryId = nodeId;
    found = true;
  }
  return found;
}

}  // namespace

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char byte : bytes) {
    crc ^= static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
  }
  return crc;
}

std::uint16_t hashSlot(std::string_view key) {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) % kClusterSlots;
}

std::optional<std::vector<ClusterShard>> parseClusterShards(const redisReply* reply, bool tls) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<ClusterShard> shards;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* slots = field(reply->element[i], "slots");
    const redisReply* nodes = field(reply->element[i], "nodes");
    if (slots == nullptr || nodes == nullptr || slots->type != REDIS_REPLY_ARRAY ||
        nodes->type != REDIS_REPLY_ARRAY)
      return std::nullopt;
    ClusterShard shard;
    for (std::size_t s = 0; s + 1 < slots->elements; s += 2) {
      const auto from = integer(slots->element[s]);
      const auto to = integer(slots->element[s + 1]);
      if (!from || !to || *from < 0 || *to < *from || *to >= static_cast<long long>(kClusterSlots))
        return std::nullopt;
      shard.slots.emplace_back(static_cast<std::uint16_t>(*from), static_cast<std::uint16_t>(*to));
    }
    if (!readNodes(nodes, shard, tls) || shard.slots.empty()) continue;
    shards.push_back(std::move(shard));
  }
  return shards;
}

void SlotMap::assign(std::uint16_t from, std::uint16_t to, int owner) {
  for (std::size_t slot = from; slot <= to && slot < kClusterSlots; ++slot)
    owners_[slot] = static_cast<std::int16_t>(owner);
}

bool SlotMap::complete() const {
  for (const auto owner : owners_)
    if (owner < 0) return false;
  return true;
}

std::optional<Redirect> parseRedirect(std::string_view error) {
  const auto word = error.substr(0, error.find(' '));
  if (word == "TRYAGAIN") return Redirect{Redirect::Kind::kTryAgain, 0, {}};
  if (word == "CLUSTERDOWN") return Redirect{Redirect::Kind::kClusterDown, 0, {}};
  if (word != "MOVED" && word != "ASK") return std::nullopt;
  // MOVED <slot> <host>:<port>   (an IPv6 host keeps its colons: split at the last)
  std::string_view rest = error.substr(word.size());
  if (rest.empty() || rest.front() != ' ') return std::nullopt;
  rest.remove_prefix(1);
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto slot = number<std::uint16_t>(rest.substr(0, space));
  const auto address = rest.substr(space + 1);
  const auto colon = address.rfind(':');
  if (!slot || *slot >= kClusterSlots || colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  const auto port = number<std::uint16_t>(address.substr(colon + 1));
  if (!port || *port == 0) return std::nullopt;
  return Redirect{word == "MOVED" ? Redirect::Kind::kMoved : Redirect::Kind::kAsk, *slot,
                  ClusterNode{std::string(address.substr(0, colon)), *port}};
}

}  // namespace chat::gateway
