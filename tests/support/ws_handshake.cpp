#include "ws_handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <random>
#include <stdexcept>

namespace chat::testing {

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  if (written < 0) throw std::runtime_error("EVP_EncodeBlock failed");
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string makeWebSocketKey() {
  static thread_local std::mt19937 random{std::random_device{}()};
  std::string bytes(16, '\0');
  std::uniform_int_distribution<int> distribution(0, 255);
  for (char& b : bytes)
    b = static_cast<char>(distribution(random));
  return base64Encode(bytes);
}

std::string computeAcceptKey(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(SHA-1) failed");
  }
  return base64Encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string buildHandshakeRequest(const HandshakeRequest& request) {
  std::string text = "GET " + request.target + " HTTP/1.1\r\n";
  text += "Host: " + request.host + "\r\n";
  text += "Upgrade: websocket\r\n";
  text += "Connection: Upgrade\r\n";
  text += "Sec-WebSocket-Key: " + request.key + "\r\n";
  text += "Sec-WebSocket-Version: 13\r\n";
  if (!request.subprotocols.empty()) {
    std::string list;
    for (const std::string& protocol : request.subprotocols) {
      if (!list.empty()) list += ", ";
      list += protocol;
    }
    text += "Sec-WebSocket-Protocol: " + list + "\r\n";
  }
  for (const auto& [name, value] : request.headers)
    text += name + ": " + value + "\r\n";
  text += "\r\n";
  return text;
}

}  // namespace chat::testing
