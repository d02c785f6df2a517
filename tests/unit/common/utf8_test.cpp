// Strict UTF-8 validation and code point counting (common/util/utf8.h).

#include "util/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace chat::common {
namespace {

// Reference encoder (RFC 3629), used to build inputs independently of the code
// under test.
std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (unsigned char c : list)
    out += static_cast<char>(c);
  return out;
}

TEST(Utf8Test, EmptyStringHasZeroCodePoints) {
  EXPECT_EQ(countCodePoints(""), 0u);
  EXPECT_TRUE(isValidUtf8(""));
}

TEST(Utf8Test, CountsAsciiOneCodePointPerByte) {
  EXPECT_EQ(countCodePoints("hello"), 5u);
  EXPECT_EQ(countCodePoints("a b\tc\n"), 6u);
}

TEST(Utf8Test, EmbeddedNulIsValidUtf8) {
  const std::string s("a\0b", 3);
  EXPECT_EQ(countCodePoints(s), 3u);
}

TEST(Utf8Test, CountsMultiByteSequencesAsOneCodePoint) {
  EXPECT_EQ(countCodePoints("\xC3\xA9"), 1u);                  // é
  EXPECT_EQ(countCodePoints("caf\xC3\xA9"), 4u);               // café
  EXPECT_EQ(countCodePoints("\xE6\x97\xA5\xE6\x9C\xAC"), 2u);  // 日本
  EXPECT_EQ(countCodePoints("\xE2\x82\xAC"), 1u);              // €
  EXPECT_EQ(countCodePoints("\xF0\x9F\x98\x80"), 1u);          // 😀 (4 bytes)
  EXPECT_EQ(countCodePoints("a\xF0\x9F\x98\x80z\xC3\xA9"), 4u);
}

TEST(Utf8Test, AcceptsBoundaryCodePoints) {
  const std::vector<std::string> valid = {
      bytes({0x7F}),                    // U+007F
      bytes({0xC2, 0x80}),              // U+0080
      bytes({0xDF, 0xBF}),              // U+07FF
      bytes({0xE0, 0xA0, 0x80}),        // U+0800
      bytes({0xED, 0x9F, 0xBF}),        // U+D7FF, last before the surrogates
      bytes({0xEE, 0x80, 0x80}),        // U+E000, first after the surrogates
      bytes({0xEF, 0xBF, 0xBD}),        // U+FFFD
      bytes({0xEF, 0xBF, 0xBF}),        // U+FFFF
      bytes({0xF0, 0x90, 0x80, 0x80}),  // U+10000
      bytes({0xF4, 0x8F, 0xBF, 0xBF}),  // U+10FFFF, the last code point
  };
  for (const auto& s : valid) {
    EXPECT_EQ(countCodePoints(s), 1u) << testing::PrintToString(s);
    EXPECT_TRUE(isValidUtf8(s)) << testing::PrintToString(s);
  }
}

TEST(Utf8Test, RejectsOverlongEncodings) {
  const std::vector<std::string> overlong = {
      bytes({0xC0, 0x80}),              // NUL in two bytes
      bytes({0xC0, 0xAF}),              // '/' in two bytes
      bytes({0xC1, 0xBF}),              // U+007F in two bytes
      bytes({0xE0, 0x80, 0x80}),        // NUL in three bytes
      bytes({0xE0, 0x80, 0xAF}),        // '/' in three bytes
      bytes({0xE0, 0x9F, 0xBF}),        // U+07FF in three bytes
      bytes({0xF0, 0x80, 0x80, 0x80}),  // NUL in four bytes
      bytes({0xF0, 0x8F, 0xBF, 0xBF}),  // U+FFFF in four bytes
  };
  for (const auto& s : overlong) {
    EXPECT_FALSE(countCodePoints(s).has_value()) << testing::PrintToString(s);
    EXPECT_FALSE(isValidUtf8("ok" + s + "ok")) << testing::PrintToString(s);
  }
}

TEST(Utf8Test, RejectsEncodedSurrogates) {
  const std::vector<std::string> surrogates = {
      bytes({0xED, 0xA0, 0x80}),                    // U+D800
      bytes({0xED, 0xAD, 0xBF}),                    // U+DB7F
      bytes({0xED, 0xB0, 0x80}),                    // U+DC00
      bytes({0xED, 0xBF, 0xBF}),                    // U+DFFF
      bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}),  // CESU-8 pair for U+1F600
  };
  for (const auto& s : surrogates) {
    EXPECT_FALSE(isValidUtf8(s)) << testing::PrintToString(s);
  }
}

TEST(Utf8Test, RejectsCodePointsPastU10FFFF) {
  EXPECT_FALSE(isValidUtf8(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(isValidUtf8(bytes({0xF4, 0xBF, 0xBF, 0xBF})));
  EXPECT_FALSE(isValidUtf8(bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(isValidUtf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));              // U+1FFFFF
  EXPECT_FALSE(isValidUtf8(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));        // 5-byte form
  EXPECT_FALSE(isValidUtf8(bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));  // 6-byte form
}

TEST(Utf8Test, RejectsBytesThatNeverAppear) {
  for (unsigned c : {0xC0u, 0xC1u, 0xF5u, 0xF8u, 0xFCu, 0xFEu, 0xFFu}) {
    EXPECT_FALSE(isValidUtf8(std::string(1, static_cast<char>(c)))) << c;
    EXPECT_FALSE(isValidUtf8(std::string(1, static_cast<char>(c)) + "\x80\x80\x80")) << c;
  }
}

TEST(Utf8Test, RejectsLoneContinuationBytes) {
  for (unsigned c = 0x80; c <= 0xBF; ++c) {
    EXPECT_FALSE(isValidUtf8(std::string(1, static_cast<char>(c)))) << c;
    EXPECT_FALSE(isValidUtf8(std::string{'a', static_cast<char>(c), 'b'})) << c;
  }
  // One continuation byte too many after a valid sequence.
  EXPECT_FALSE(isValidUtf8("\xC3\xA9\xA9"));
}

TEST(Utf8Test, RejectsTruncatedSequences) {
  const std::vector<std::string> truncated = {
      bytes({0xC3}), bytes({0xE6}),       bytes({0xE6, 0x97}),
      bytes({0xF0}), bytes({0xF0, 0x9F}), bytes({0xF0, 0x9F, 0x98}),
  };
  for (const auto& s : truncated) {
    // At the end of the input...
    EXPECT_FALSE(isValidUtf8(s)) << testing::PrintToString(s);
    EXPECT_FALSE(isValidUtf8("hello" + s)) << testing::PrintToString(s);
    // ...and cut short by a following ASCII byte.
    EXPECT_FALSE(isValidUtf8(s + "A")) << testing::PrintToString(s);
    EXPECT_FALSE(isValidUtf8(s + "AAAA")) << testing::PrintToString(s);
  }
}

TEST(Utf8Test, TruncatedSequenceDoesNotReadPastTheView) {
  // The view ends in the middle of a sequence whose remaining bytes follow in
  // memory: they must not be looked at.
  const std::string buffer = "ab\xF0\x9F\x98\x80";
  EXPECT_FALSE(isValidUtf8(std::string_view(buffer).substr(0, 4)));
  EXPECT_FALSE(isValidUtf8(std::string_view(buffer).substr(0, 5)));
  EXPECT_EQ(countCodePoints(std::string_view(buffer).substr(0, 6)), 3u);
}

TEST(Utf8Test, EverySingleByteIsValidOnlyWhenAscii) {
  for (unsigned c = 0; c <= 0xFF; ++c) {
    EXPECT_EQ(isValidUtf8(std::string(1, static_cast<char>(c))), c < 0x80) << c;
  }
}

TEST(Utf8Test, EveryScalarValueRoundTripsAndEverySurrogateIsRefused) {
  std::size_t failures = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF && failures < 10; ++cp) {
    const std::string s = encode(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    const auto count = countCodePoints(s);
    if (surrogate) {
      if (count.has_value()) {
        ADD_FAILURE() << "surrogate accepted: U+" << std::hex << static_cast<unsigned>(cp);
        ++failures;
      }
      continue;
    }
    if (count != 1u) {
      ADD_FAILURE() << "scalar value refused: U+" << std::hex << static_cast<unsigned>(cp);
      ++failures;
      continue;
    }
    std::size_t pos = 0;
    const char32_t decoded = decodeValidCodePoint(s, pos);
    if (decoded != cp || pos != s.size()) {
      ADD_FAILURE() << "bad decode of U+" << std::hex << static_cast<unsigned>(cp);
      ++failures;
    }
  }
}

TEST(Utf8Test, DecodeAdvancesThroughAString) {
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a é € 😀 z
  std::size_t pos = 0;
  EXPECT_EQ(decodeValidCodePoint(s, pos), U'a');
  EXPECT_EQ(pos, 1u);
  EXPECT_EQ(decodeValidCodePoint(s, pos), U'\u00E9');
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(decodeValidCodePoint(s, pos), U'\u20AC');
  EXPECT_EQ(pos, 6u);
  EXPECT_EQ(decodeValidCodePoint(s, pos), U'\U0001F600');
  EXPECT_EQ(pos, 10u);
  EXPECT_EQ(decodeValidCodePoint(s, pos), U'z');
  EXPECT_EQ(pos, s.size());
}

TEST(Utf8Test, CountsLongMixedText) {
  std::string s;
  for (int i = 0; i < 1000; ++i)
    s += "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  EXPECT_EQ(countCodePoints(s), 4000u);
  s += '\xF0';
  EXPECT_FALSE(countCodePoints(s).has_value());
}

}  // namespace
}  // namespace chat::common
