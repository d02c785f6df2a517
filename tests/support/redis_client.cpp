#include "redis_client.h"

#include <stdexcept>

namespace chat::testing {
namespace {

std::string commandName(const std::vector<std::string>& args) {
  return args.empty() ? std::string("(empty)") : args.front();
}

}  // namespace

RedisClient::RedisClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  if (!socket_.connect(port, Deadline(timeout_))) {
    throw std::runtime_error("redis: " + socket_.lastError());
  }
}

Reply RedisClient::command(const std::vector<std::string>& args) {
  Deadline deadline(timeout_);
  IoResult sent = socket_.sendAll(encodeCommand(args), deadline);
  if (sent != IoResult::kOk) {
    throw std::runtime_error("redis " + commandName(args) + ": " + describe(sent) + " " +
                             socket_.lastError());
  }
  std::optional<Reply> reply = readReply(deadline.remaining());
  if (!reply) throw std::runtime_error("redis " + commandName(args) + ": no reply in time");
  return *reply;
}

std::optional<Reply> RedisClient::readReply(std::chrono::milliseconds timeout) {
  Deadline deadline(timeout);
  for (;;) {
    Reply reply;
    std::size_t consumed = 0;
    DecodeStatus status = decodeReply(socket_.buffer(), reply, consumed);
    if (status == DecodeStatus::kComplete) {
      socket_.buffer().erase(0, consumed);
      return reply;
    }
    if (status == DecodeStatus::kMalformed) throw std::runtime_error("redis: malformed reply");
    IoResult more = socket_.fill(deadline);
    if (more == IoResult::kTimeout) return std::nullopt;
    if (more != IoResult::kOk) {
      throw std::runtime_error(std::string("redis: ") + describe(more) + " " + socket_.lastError());
    }
  }
}

std::int64_t RedisClient::integer(const std::vector<std::string>& args) {
  Reply reply = command(args);
  if (reply.type != Reply::Type::kInteger) {
    throw std::runtime_error("redis " + commandName(args) + ": expected an integer, got " +
                             reply.describe());
  }
  return reply.integer;
}

std::vector<std::string> RedisClient::strings(const std::vector<std::string>& args) {
  Reply reply = command(args);
  if (reply.type != Reply::Type::kArray) {
    throw std::runtime_error("redis " + commandName(args) + ": expected an array, got " +
                             reply.describe());
  }
  std::vector<std::string> result;
  for (const Reply& element : reply.elements) {
    if (element.type != Reply::Type::kBulk) {
      throw std::runtime_error("redis " + commandName(args) + ": expected bulk strings, got " +
                               reply.describe());
    }
    result.push_back(element.str);
  }
  return result;
}

std::map<std::string, std::string> RedisClient::hash(const std::string& key) {
  std::vector<std::string> flat = strings({"HGETALL", key});
  std::map<std::string, std::string> result;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    result[flat[i]] = flat[i + 1];
  return result;
}

}  // namespace chat::testing
