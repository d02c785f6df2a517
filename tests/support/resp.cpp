#include "resp.h"

#include <charconv>
#include <sstream>

namespace chat::testing {
namespace {

constexpr std::size_t kMaxDepth = 32;

bool parseInteger(std::string_view text, std::int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

DecodeStatus decodeAt(std::string_view input, std::size_t& pos, Reply& reply, std::size_t depth) {
  if (depth > kMaxDepth) return DecodeStatus::kMalformed;
  if (pos >= input.size()) return DecodeStatus::kNeedMore;
  std::size_t lineEnd = input.find("\r\n", pos);
  if (lineEnd == std::string_view::npos) return DecodeStatus::kNeedMore;
  char kind = input[pos];
  std::string_view line = input.substr(pos + 1, lineEnd - pos - 1);
  pos = lineEnd + 2;
  switch (kind) {
    case '+':
      reply.type = Reply::Type::kStatus;
      reply.str = line;
      return DecodeStatus::kComplete;
    case '-':
      reply.type = Reply::Type::kError;
      reply.str = line;
      return DecodeStatus::kComplete;
    case ':':
      reply.type = Reply::Type::kInteger;
      return parseInteger(line, reply.integer) ? DecodeStatus::kComplete : DecodeStatus::kMalformed;
    case '$': {
      std::int64_t length = 0;
      if (!parseInteger(line, length) || length < -1) return DecodeStatus::kMalformed;
      if (length == -1) {
        reply.type = Reply::Type::kNil;
        return DecodeStatus::kComplete;
      }
      auto size = static_cast<std::size_t>(length);
      if (input.size() < pos + size + 2) return DecodeStatus::kNeedMore;
      if (input.substr(pos + size, 2) != "\r\n") return DecodeStatus::kMalformed;
      reply.type = Reply::Type::kBulk;
      reply.str = input.substr(pos, size);
      pos += size + 2;
      return DecodeStatus::kComplete;
    }
    case '*': {
      std::int64_t count = 0;
      if (!parseInteger(line, count) || count < -1) return DecodeStatus::kMalformed;
      if (count == -1) {
        reply.type = Reply::Type::kNil;
        return DecodeStatus::kComplete;
      }
      reply.type = Reply::Type::kArray;
      reply.elements.assign(static_cast<std::size_t>(count), Reply{});
      for (Reply& element : reply.elements) {
        DecodeStatus status = decodeAt(input, pos, element, depth + 1);
        if (status != DecodeStatus::kComplete) return status;
      }
      return DecodeStatus::kComplete;
    }
    default:
      return DecodeStatus::kMalformed;
  }
}

void describeInto(const Reply& reply, std::ostringstream& out) {
  switch (reply.type) {
    case Reply::Type::kStatus:
      out << reply.str;
      break;
    case Reply::Type::kError:
      out << "(error) " << reply.str;
      break;
    case Reply::Type::kInteger:
      out << "(integer) " << reply.integer;
      break;
    case Reply::Type::kBulk:
      out << '"' << reply.str << '"';
      break;
    case Reply::Type::kNil:
      out << "(nil)";
      break;
    case Reply::Type::kArray:
      out << '[';
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) out << ", ";
        describeInto(reply.elements[i], out);
      }
      out << ']';
      break;
  }
}

}  // namespace

std::string Reply::describe() const {
  std::ostringstream out;
  describeInto(*this, out);
  return out.str();
}

std::string encodeCommand(const std::vector<std::string>& args) {
  // Appended piece by piece: `"*" + std::to_string(n)` trips GCC 12's
  // -Wrestrict false positive at -O3.
  std::string out;
  out.append(1, '*').append(std::to_string(args.size())).append("\r\n");
  for (const std::string& arg : args) {
    out.append(1, '$').append(std::to_string(arg.size())).append("\r\n");
    out.append(arg).append("\r\n");
  }
  return out;
}

DecodeStatus decodeReply(std::string_view input, Reply& reply, std::size_t& consumed) {
  std::size_t pos = 0;
  reply = Reply{};
  DecodeStatus status = decodeAt(input, pos, reply, 0);
  if (status == DecodeStatus::kComplete) consumed = pos;
  return status;
}

}  // namespace chat::testing
