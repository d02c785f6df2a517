#include "json_raw.h"

#include <rapidjson/document.h>

namespace chat::testing {
namespace {

// A scanner over text RapidJSON has already accepted, so it need not check
// anything but where each value ends.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  void advance() { ++pos_; }

  // The value starting at the current position; leaves the position after it.
  std::string_view value() {
    const std::size_t start = pos_;
    const char c = peek();
    if (c == '"') {
      skipString();
    } else if (c == '{' || c == '[') {
      int depth = 0;
      do {
        const char d = peek();
        if (d == '"') {
          skipString();
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') --depth;
        advance();
      } while (depth > 0 && !atEnd());
    } else {
      while (!atEnd() && peek() != ',' && peek() != ']' && peek() != '}' && peek() != ' ' &&
             peek() != '\t' && peek() != '\n' && peek() != '\r')
        advance();
    }
    return text_.substr(start, pos_ - start);
  }

 private:
  void skipString() {
    advance();  // the opening quote
    while (!atEnd() && peek() != '"') {
      if (peek() == '\\') advance();
      advance();
    }
    advance();  // the closing quote
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Whether `text` is exactly one valid JSON value (white space around it allowed).
bool isOneJsonValue(std::string_view text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !document.HasParseError();
}

}  // namespace

std::optional<std::vector<std::string>> rawArrayElements(std::string_view text) {
  if (!isOneJsonValue(text)) return std::nullopt;
  Scanner scanner(text);
  scanner.skipSpace();
  if (scanner.peek() != '[') return std::nullopt;
  scanner.advance();
  std::vector<std::string> elements;
  scanner.skipSpace();
  if (scanner.peek() == ']') return elements;
  for (;;) {
    scanner.skipSpace();
    elements.emplace_back(scanner.value());
    scanner.skipSpace();
    if (scanner.peek() != ',') break;
    scanner.advance();
  }
  return elements;
}

std::optional<std::string> rawMemberValue(std::string_view text, std::string_view key) {
  if (!isOneJsonValue(text)) return std::nullopt;
  Scanner scanner(text);
  scanner.skipSpace();
  if (scanner.peek() != '{') return std::nullopt;
  scanner.advance();
  scanner.skipSpace();
  if (scanner.peek() == '}') return std::nullopt;
  for (;;) {
    scanner.skipSpace();
    std::string_view name = scanner.value();
    scanner.skipSpace();
    scanner.advance();  // the colon
    scanner.skipSpace();
    std::string_view value = scanner.value();
    if (name.size() >= 2 && name.substr(1, name.size() - 2) == key) return std::string(value);
    scanner.skipSpace();
    if (scanner.peek() != ',') return std::nullopt;
    scanner.advance();
  }
}

}  // namespace chat::testing
