#include "lg_codec.h"

#include <cctype>
#include <charconv>
#include <cstring>

namespace chat::load {

const char* dialectName(Dialect dialect) {
  return dialect == Dialect::kV1 ? "v1" : "plain";
}

std::optional<Dialect> parseDialect(std::string_view name) {
  if (name == "v1" || name == "chat.v1") return Dialect::kV1;
  if (name == "plain" || name == "raw") return Dialect::kPlain;
  return std::nullopt;
}

void appendMaskedFrame(std::string& out, std::uint8_t opcode, std::string_view payload,
                       std::uint32_t mask) {
  const std::size_t length = payload.size();
  out.push_back(static_cast<char>(0x80 | (opcode & 0x0F)));
  if (length < 126) {
    out.push_back(static_cast<char>(0x80 | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xFF));
  }
  unsigned char key[4];
  std::memcpy(key, &mask, 4);
  out.append(reinterpret_cast<const char*>(key), 4);
  const std::size_t start = out.size();
  out.append(payload);
  char* p = out.data() + start;
  for (std::size_t i = 0; i < length; ++i)
    p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ key[i & 3]);
}

FrameStatus parseServerFrame(std::string_view input, std::size_t maxPayload, ServerFrame& frame) {
  if (input.size() < 2) return FrameStatus::kNeedMore;
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(input[i]); };
  frame.fin = (byte(0) & 0x80) != 0;
  frame.opcode = byte(0) & 0x0F;
  if ((frame.opcode > 0x2 && frame.opcode < 0x8) || frame.opcode > 0xA) return FrameStatus::kError;
  if ((byte(1) & 0x80) != 0) return FrameStatus::kError;  // servers never mask
  std::uint64_t length = byte(1) & 0x7F;
  std::size_t pos = 2;
  if (length == 126) {
    if (input.size() < 4) return FrameStatus::kNeedMore;
    length = (std::uint64_t{byte(2)} << 8) | byte(3);
    pos = 4;
  } else if (length == 127) {
    if (input.size() < 10) return FrameStatus::kNeedMore;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length = (length << 8) | byte(i);
    pos = 10;
  }
  if (length > maxPayload) return FrameStatus::kError;
  if (input.size() < pos + length) return FrameStatus::kNeedMore;
  frame.payload = input.substr(pos, static_cast<std::size_t>(length));
  frame.consumed = pos + static_cast<std::size_t>(length);
  return FrameStatus::kFrame;
}

namespace {

void appendQueryValue(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

bool iequalsPrefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string requestTarget(std::string_view path, std::string_view room, std::string_view username,
                          std::string_view since, std::string_view epoch) {
  std::string target(path);
  target += "?room=";
  appendQueryValue(target, room);
  if (!username.empty()) {
    target += "&username=";
    appendQueryValue(target, username);
  }
  if (!since.empty()) {
    target += "&since=";
    appendQueryValue(target, since);
  }
  if (!epoch.empty()) {
    target += "&epoch=";
    appendQueryValue(target, epoch);
  }
  return target;
}

HandshakeResult checkHandshakeResponse(std::string_view input, std::string_view expectedAccept,
                                       bool wantV1) {
  HandshakeResult result;
  const std::size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) return result;
  result.headerBytes = end + 4;
  std::string_view head = input.substr(0, end);
  const std::size_t eol = head.find("\r\n");
  const std::string_view statusLine = head.substr(0, eol);
  result.status = HandshakeStatus::kRefused;
  result.statusLine = std::string(statusLine.substr(0, 120));
  if (statusLine.size() < 12 || statusLine.substr(0, 5) != "HTTP/" ||
      statusLine.find(" 101") == std::string_view::npos)
    return result;
  bool acceptOk = false;
  bool protocolOk = !wantV1;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    const std::size_t next = rest.find("\r\n");
    const std::string_view line = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (name.size() == 20 && iequalsPrefix(name, "sec-websocket-accept"))
      acceptOk = value == expectedAccept;
    else if (name.size() == 22 && iequalsPrefix(name, "sec-websocket-protocol"))
      protocolOk = wantV1 && value == "chat.v1";
  }
  if (!acceptOk) {
    result.statusLine += " (bad Sec-WebSocket-Accept)";
    return result;
  }
  if (!protocolOk) {
    result.statusLine += " (subprotocol not chat.v1)";
    return result;
  }
  result.status = HandshakeStatus::kAccepted;
  result.statusLine.clear();
  return result;
}

void appendPlainMessage(std::string& out, std::string_view username, std::string_view text) {
  out += R"({"username":")";
  out += username;
  out += R"(","text":")";
  out += text;
  out += R"("})";
}

void appendV1Message(std::string& out, std::string_view text, std::string_view ref) {
  out += R"({"type":"message","text":")";
  out += text;
  out += R"(","ref":")";
  out += ref;
  out += R"("})";
}

namespace {

// Position just after `"key":` (spaces skipped), or npos.
std::size_t valueStart(std::string_view json, std::string_view key) {
  std::size_t from = 0;
  while (true) {
    const std::size_t at = json.find(key, from);
    if (at == std::string_view::npos) return at;
    from = at + 1;
    const std::size_t after = at + key.size();
    if (at == 0 || json[at - 1] != '"' || after >= json.size() || json[after] != '"') continue;
    std::size_t pos = after + 1;
    while (pos < json.size() && json[pos] == ' ')
      ++pos;
    if (pos >= json.size() || json[pos] != ':') continue;
    ++pos;
    while (pos < json.size() && json[pos] == ' ')
      ++pos;
    return pos;
  }
}

}  // namespace

std::optional<std::string_view> stringField(std::string_view json, std::string_view key) {
  const std::size_t pos = valueStart(json, key);
  if (pos == std::string_view::npos || pos >= json.size() || json[pos] != '"') return std::nullopt;
  for (std::size_t i = pos + 1; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
      continue;
    }
    if (json[i] == '"') return json.substr(pos + 1, i - pos - 1);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> uintField(std::string_view json, std::string_view key) {
  const std::size_t pos = valueStart(json, key);
  if (pos == std::string_view::npos) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(json.data() + pos, json.data() + json.size(), value);
  if (ec != std::errc() || ptr == json.data() + pos) return std::nullopt;
  return value;
}

std::optional<bool> boolField(std::string_view json, std::string_view key) {
  const std::size_t pos = valueStart(json, key);
  if (pos == std::string_view::npos) return std::nullopt;
  const std::string_view rest = json.substr(pos);
  if (rest.substr(0, 4) == "true") return true;
  if (rest.substr(0, 5) == "false") return false;
  return std::nullopt;
}

void appendBenchText(std::string& out, std::string_view run, std::uint32_t publisher,
                     std::int64_t seq, std::int64_t sendNs, std::size_t size) {
  const std::size_t start = out.size();
  char number[24];
  out += "b ";
  out += run;
  for (std::int64_t v : {static_cast<std::int64_t>(publisher), seq, sendNs}) {
    out += ' ';
    const auto [ptr, ec] = std::to_chars(number, number + sizeof number, v);
    out.append(number, ptr);
  }
  out += ' ';
  while (out.size() - start < size)
    out += 'x';
}

void appendSyncText(std::string& out, std::string_view run, std::int64_t k) {
  out += "s ";
  out += run;
  out += ' ';
  out += std::to_string(k);
}

namespace {

bool takeInt(std::string_view& text, std::int64_t& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  if (!text.empty()) {
    if (text.front() != ' ') return false;
    text.remove_prefix(1);
  }
  return true;
}

}  // namespace

BenchText parseBenchText(std::string_view text, std::string_view run) {
  BenchText out;
  if (text.size() < 4 + run.size() || text[1] != ' ' || (text[0] != 'b' && text[0] != 's'))
    return out;
  if (text.substr(2, run.size()) != run || text[2 + run.size()] != ' ') return out;
  std::string_view rest = text.substr(3 + run.size());
  if (text[0] == 's') {
    std::int64_t k = 0;
    if (!takeInt(rest, k)) return out;
    out.kind = 's';
    out.seq = k;
    return out;
  }
  std::int64_t publisher = 0, seq = 0, sendNs = 0;
  if (!takeInt(rest, publisher) || !takeInt(rest, seq) || !takeInt(rest, sendNs) || publisher < 0 ||
      publisher > 0xFFFFFFF)
    return out;
  out.kind = 'b';
  out.publisher = static_cast<std::uint32_t>(publisher);
  out.seq = seq;
  out.sendNs = sendNs;
  return out;
}

}  // namespace chat::load
