// Field rules of docs/protocol.md section 3 (common/protocol/validation.h) and the
// refusal tables (common/protocol/refusal.h).

#include "protocol/validation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/refusal.h"

namespace chat::common {
namespace {

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += unit;
  return out;
}

constexpr std::string_view kEAcute = "\xC3\xA9";                // é, 2 bytes
constexpr std::string_view kEmoji = "\xF0\x9F\x98\x80";         // 😀, 4 bytes
constexpr std::string_view kNbsp = "\xC2\xA0";                  // U+00A0
constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";  // U+3000
constexpr std::string_view kEmSpace = "\xE2\x80\x83";           // U+2003

// ---------------------------------------------------------------- room names

TEST(RoomNameTest, AcceptsEveryAllowedCharacter) {
  EXPECT_TRUE(isValidRoomName("lobby"));
  EXPECT_TRUE(isValidRoomName("a"));
  EXPECT_TRUE(isValidRoomName("Dev_Team-2.0"));
  EXPECT_TRUE(isValidRoomName("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
  EXPECT_TRUE(isValidRoomName("abcdefghijklmnopqrstuvwxyz"));
  EXPECT_TRUE(isValidRoomName("0123456789"));
  EXPECT_TRUE(isValidRoomName("_.-"));
}

TEST(RoomNameTest, AcceptsSixtyFourCharactersButNotSixtyFive) {
  EXPECT_EQ(kMaxRoomLength, 64u);
  EXPECT_TRUE(isValidRoomName(std::string(64, 'r')));
  EXPECT_FALSE(isValidRoomName(std::string(65, 'r')));
  EXPECT_FALSE(isValidRoomName(std::string(1000, 'r')));
}

TEST(RoomNameTest, RefusesEmpty) {
  EXPECT_FALSE(isValidRoomName(""));
}

TEST(RoomNameTest, RefusesEveryOtherCharacter) {
  for (unsigned c = 0; c <= 0xFF; ++c) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    const std::string room = "ab" + std::string(1, static_cast<char>(c)) + "cd";
    EXPECT_EQ(isValidRoomName(room), allowed) << "byte " << c;
  }
}

TEST(RoomNameTest, RefusesTypicalBadNames) {
  for (std::string_view bad : {"with space", "a/b", "a:b", "{lobby}", "lobby*", "caf\xC3\xA9",
                               " lobby", "lobby ", "a%20b", "a\nb", "a+b", "a#b", "a?b"}) {
    EXPECT_FALSE(isValidRoomName(bad)) << testing::PrintToString(std::string(bad));
  }
  EXPECT_FALSE(isValidRoomName(std::string_view("lob\0by", 6)));
}

TEST(RoomNameTest, NormalizeMapsEmptyToLobby) {
  EXPECT_EQ(kDefaultRoom, "lobby");
  EXPECT_EQ(normalizeRoom(""), "lobby");
}

TEST(RoomNameTest, NormalizeKeepsValidNames) {
  EXPECT_EQ(normalizeRoom("dev"), "dev");
  EXPECT_EQ(normalizeRoom("lobby"), "lobby");
  EXPECT_EQ(normalizeRoom(std::string(64, 'x')), std::string(64, 'x'));
}

TEST(RoomNameTest, NormalizeRefusesBadNames) {
  EXPECT_FALSE(normalizeRoom("bad room").has_value());
  EXPECT_FALSE(normalizeRoom(std::string(65, 'x')).has_value());
  EXPECT_FALSE(normalizeRoom("a/b").has_value());
  EXPECT_FALSE(normalizeRoom(" ").has_value());
}

// ---------------------------------------------------------------- trimming

TEST(TrimSpaceTest, TrimsAsciiWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trimSpace("  alice  "), "alice");
  EXPECT_EQ(trimSpace("\t\r\n\v\falice\t\r\n\v\f"), "alice");
  EXPECT_EQ(trimSpace("alice"), "alice");
  EXPECT_EQ(trimSpace("alice smith"), "alice smith");
  EXPECT_EQ(trimSpace(" a b "), "a b");
}

TEST(TrimSpaceTest, TrimsUnicodeSpaces) {
  const std::string s = std::string(kNbsp) + std::string(kIdeographicSpace) + "alice" +
                        std::string(kEmSpace) + std::string(kNbsp);
  EXPECT_EQ(trimSpace(s), "alice");
}

TEST(TrimSpaceTest, KeepsMultiByteCharactersAtTheEdges) {
  std::string s = " ";
  s.append(kEAcute).append("x").append(kEmoji).append(" ");
  EXPECT_EQ(trimSpace(s), std::string(kEAcute) + "x" + std::string(kEmoji));
  EXPECT_EQ(trimSpace(kEmoji), kEmoji);
  EXPECT_EQ(trimSpace(kEAcute), kEAcute);
}

TEST(TrimSpaceTest, AllSpaceBecomesEmpty) {
  EXPECT_EQ(trimSpace(""), "");
  EXPECT_EQ(trimSpace(" "), "");
  EXPECT_EQ(trimSpace(" \t\n "), "");
  EXPECT_EQ(trimSpace(std::string(kNbsp) + " " + std::string(kIdeographicSpace)), "");
}

TEST(TrimSpaceTest, ResultIsAViewIntoTheInput) {
  const std::string s = "  alice  ";
  const auto t = trimSpace(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(t.size(), 5u);
}

TEST(IsBlankTest, DetectsWhiteSpaceOnlyStrings) {
  EXPECT_TRUE(isBlank(""));
  EXPECT_TRUE(isBlank("   "));
  EXPECT_TRUE(isBlank("\n\t"));
  EXPECT_TRUE(isBlank(kIdeographicSpace));
  EXPECT_FALSE(isBlank(" a "));
  EXPECT_FALSE(isBlank("."));
  EXPECT_FALSE(isBlank(kEmoji));
}

// ---------------------------------------------------------------- usernames

TEST(UsernameTest, AcceptsOrdinaryNames) {
  const auto r = checkUsername("alice");
  EXPECT_FALSE(r.refusal.has_value());
  EXPECT_EQ(r.username, "alice");
  EXPECT_EQ(checkUsername("Alice Smith").username, "Alice Smith");
  EXPECT_EQ(checkUsername("caf\xC3\xA9").username, "caf\xC3\xA9");
}

TEST(UsernameTest, TrimsWhiteSpace) {
  EXPECT_EQ(checkUsername("  alice  ").username, "alice");
  EXPECT_EQ(checkUsername("\talice\n").username, "alice");
  EXPECT_EQ(checkUsername(std::string(kNbsp) + "bob" + std::string(kIdeographicSpace)).username,
            "bob");
}

TEST(UsernameTest, RefusesEmptyAfterTrimming) {
  for (std::string_view name : {"", " ", "   ", "\t\n"}) {
    const auto r = checkUsername(name);
    EXPECT_EQ(r.refusal, Refusal::kBadUsername) << testing::PrintToString(std::string(name));
    EXPECT_TRUE(r.username.empty());
  }
}

TEST(UsernameTest, AcceptsThirtyTwoCodePointsButNotThirtyThree) {
  EXPECT_EQ(kMaxUsernameCodePoints, 32u);
  EXPECT_FALSE(checkUsername(std::string(32, 'a')).refusal.has_value());
  EXPECT_EQ(checkUsername(std::string(33, 'a')).refusal, Refusal::kBadUsername);
}

TEST(UsernameTest, CountsCodePointsNotBytes) {
  // 32 x é is 64 bytes, 32 x 😀 is 128 bytes: both are 32 characters.
  const auto e32 = checkUsername(repeat(kEAcute, 32));
  EXPECT_FALSE(e32.refusal.has_value());
  EXPECT_EQ(e32.username, repeat(kEAcute, 32));
  EXPECT_FALSE(checkUsername(repeat(kEmoji, 32)).refusal.has_value());
  EXPECT_EQ(checkUsername(repeat(kEAcute, 33)).refusal, Refusal::kBadUsername);
  EXPECT_EQ(checkUsername(repeat(kEmoji, 33)).refusal, Refusal::kBadUsername);
}

TEST(UsernameTest, LengthIsMeasuredAfterTrimming) {
  const auto r = checkUsername("   " + std::string(32, 'a') + "   ");
  EXPECT_FALSE(r.refusal.has_value());
  EXPECT_EQ(r.username, std::string(32, 'a'));
}

TEST(UsernameTest, RefusesControlCharacters) {
  const std::vector<std::string> bad = {
      std::string("a\0b", 3),  // NUL
      "a\x01z",                // SOH
      "a\tb",                  // tab inside the name
      "a\nb",                  // newline inside the name
      "a\rb",
      "a\x1b[31mred",  // ESC
      "a\x7fz",        // DEL
      "a\xC2\x80z",    // U+0080 (C1)
      "a\xC2\x9Fz",    // U+009F (C1)
  };
  for (const auto& name : bad) {
    const auto r = checkUsername(name);
    EXPECT_EQ(r.refusal, Refusal::kBadUsername) << testing::PrintToString(name);
    EXPECT_TRUE(r.username.empty());
  }
}

TEST(UsernameTest, RefusesInvalidUtf8) {
  for (std::string_view name :
       {"\xC0\x80", "a\xED\xA0\x80", "bob\xC3", "\xF4\x90\x80\x80", "\xFF", "\x80"}) {
    EXPECT_EQ(checkUsername(name).refusal, Refusal::kInvalidUtf8)
        << testing::PrintToString(std::string(name));
  }
}

// ---------------------------------------------------------------- text

TEST(TextTest, AcceptsOrdinaryText) {
  EXPECT_FALSE(checkText("hi").has_value());
  EXPECT_FALSE(checkText("x").has_value());
  EXPECT_FALSE(checkText("  padded  ").has_value());
  EXPECT_FALSE(checkText("line one\nline two").has_value());
  EXPECT_FALSE(checkText("tab\tand \"quotes\" and \\ backslash").has_value());
  EXPECT_FALSE(checkText("caf\xC3\xA9 \xF0\x9F\x98\x80").has_value());
}

TEST(TextTest, DefaultLimitIsTwoThousandCodePoints) {
  EXPECT_EQ(kDefaultMaxTextCodePoints, 2000u);
  EXPECT_FALSE(checkText(std::string(2000, 'a')).has_value());
  EXPECT_EQ(checkText(std::string(2001, 'a')), Refusal::kTextTooLong);
}

TEST(TextTest, CountsCodePointsNotBytes) {
  EXPECT_FALSE(checkText(repeat(kEAcute, 2000)).has_value());
  EXPECT_EQ(checkText(repeat(kEAcute, 2001)), Refusal::kTextTooLong);
  // 2000 four-byte emoji are 8000 bytes and still allowed.
  EXPECT_FALSE(checkText(repeat(kEmoji, 2000)).has_value());
  EXPECT_EQ(checkText(repeat(kEmoji, 2001)), Refusal::kTextTooLong);
}

TEST(TextTest, HonoursACustomLimit) {
  EXPECT_FALSE(checkText("abcde", 5).has_value());
  EXPECT_EQ(checkText("abcdef", 5), Refusal::kTextTooLong);
  EXPECT_FALSE(checkText(repeat(kEmoji, 5), 5).has_value());
  EXPECT_EQ(checkText(repeat(kEmoji, 6), 5), Refusal::kTextTooLong);
  EXPECT_FALSE(checkText("a", 1).has_value());
}

TEST(TextTest, EmptyOrWhiteSpaceOnlyIsEmptyText) {
  for (const std::string& text :
       {std::string(""), std::string(" "), std::string("   "), std::string("\n"),
        std::string("\t \r\n"), std::string(kNbsp), std::string(kIdeographicSpace),
        std::string(kEmSpace) + " " + std::string(kNbsp)}) {
    EXPECT_EQ(checkText(text), Refusal::kEmptyText) << testing::PrintToString(text);
  }
}

TEST(TextTest, RefusesNul) {
  EXPECT_EQ(checkText(std::string("a\0b", 3)), Refusal::kTextHasNul);
  EXPECT_EQ(checkText(std::string("\0", 1)), Refusal::kTextHasNul);
  EXPECT_EQ(checkText(std::string("hello\0", 6)), Refusal::kTextHasNul);
}

TEST(TextTest, RefusesInvalidUtf8) {
  const std::vector<std::string> bad = {
      "\xC0\x80",                       // overlong NUL
      "a\xC1\xBF",                      // overlong
      "\xE0\x80\xAF",                   // overlong '/'
      "x\xED\xA0\x80y",                 // U+D800
      "\xED\xBF\xBF",                   // U+DFFF
      "trunc\xC3",                      // truncated 2-byte
      "trunc\xE2\x82",                  // truncated 3-byte
      "trunc\xF0\x9F\x98",              // truncated 4-byte
      "\xF4\x90\x80\x80",               // U+110000
      "\xF5\x80\x80\x80",               // past the code space
      "\x80",                           // lone continuation
      "\xFF\xFE",                       // never valid
      std::string(2000, 'a') + "\xC3",  // invalid and long
  };
  for (const auto& text : bad) {
    EXPECT_EQ(checkText(text), Refusal::kInvalidUtf8) << testing::PrintToString(text);
  }
}

// ---------------------------------------------------------------- refusals

constexpr Refusal kAllRefusals[] = {
    Refusal::kInvalidJson,     Refusal::kNotAnObject,  Refusal::kMissingField,
    Refusal::kWrongType,       Refusal::kInvalidUtf8,  Refusal::kBadUsername,
    Refusal::kTextTooLong,     Refusal::kTextHasNul,   Refusal::kEmptyText,
    Refusal::kFrameTooLarge,   Refusal::kBinaryFrame,  Refusal::kBadRoom,
    Refusal::kUnavailable,     Refusal::kUnknownType,  Refusal::kBadField,
    Refusal::kNotJoined,       Refusal::kTooManyRooms, Refusal::kRateLimited,
    Refusal::kForbiddenRoom,   Refusal::kBadOrigin,    Refusal::kBadToken,
    Refusal::kConnectionLimit, Refusal::kBadUpgrade,   Refusal::kBadRequest,
};

TEST(RefusalTest, EveryRefusalIsListedHere) {
  EXPECT_EQ(std::size(kAllRefusals), kRefusalCount);
}

TEST(RefusalTest, LabelsAreUniqueSnakeCase) {
  std::set<std::string_view> seen;
  for (Refusal r : kAllRefusals) {
    const auto label = refusalLabel(r);
    EXPECT_FALSE(label.empty());
    EXPECT_NE(label, "unknown");
    for (char c : label)
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << label;
    EXPECT_TRUE(seen.insert(label).second) << "duplicate label " << label;
  }
}

TEST(RefusalTest, LabelsAreStable) {
  EXPECT_EQ(refusalLabel(Refusal::kInvalidJson), "invalid_json");
  EXPECT_EQ(refusalLabel(Refusal::kInvalidUtf8), "invalid_utf8");
  EXPECT_EQ(refusalLabel(Refusal::kEmptyText), "empty_text");
  EXPECT_EQ(refusalLabel(Refusal::kFrameTooLarge), "frame_too_large");
}

TEST(RefusalTest, CloseCodeValuesFollowRfc6455) {
  EXPECT_EQ(static_cast<int>(CloseCode::kNormal), 1000);
  EXPECT_EQ(static_cast<int>(CloseCode::kGoingAway), 1001);
  EXPECT_EQ(static_cast<int>(CloseCode::kUnsupportedData), 1003);
  EXPECT_EQ(static_cast<int>(CloseCode::kInvalidPayload), 1007);
  EXPECT_EQ(static_cast<int>(CloseCode::kPolicyViolation), 1008);
  EXPECT_EQ(static_cast<int>(CloseCode::kMessageTooBig), 1009);
  EXPECT_EQ(static_cast<int>(CloseCode::kTryAgainLater), 1013);
}

TEST(RefusalTest, PlainClientCloseCodesMatchTheProtocol) {
  // Malformed JSON, wrong types, missing fields, rule breaks, invalid UTF-8: 1007.
  for (Refusal r : {Refusal::kInvalidJson, Refusal::kNotAnObject, Refusal::kMissingField,
                    Refusal::kWrongType, Refusal::kInvalidUtf8, Refusal::kBadUsername,
                    Refusal::kTextTooLong, Refusal::kTextHasNul, Refusal::kBadRoom}) {
    EXPECT_EQ(plainCloseCode(r), CloseCode::kInvalidPayload) << refusalLabel(r);
  }
  EXPECT_EQ(plainCloseCode(Refusal::kFrameTooLarge), CloseCode::kMessageTooBig);  // 1009
  EXPECT_EQ(plainCloseCode(Refusal::kBinaryFrame), CloseCode::kUnsupportedData);  // 1003
  EXPECT_EQ(plainCloseCode(Refusal::kUnavailable), CloseCode::kTryAgainLater);    // 1013
}

}  // namespace
}  // namespace chat::common
