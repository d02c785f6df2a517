// The chat.v1 codec: client frame decoding and server frame encoding
// (common/protocol/v1_codec.h, docs/protocol.md sections 3, 4 and 5).

#include "protocol/v1_codec.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/codec.h"
#include "protocol/validation.h"

namespace chat::common {
namespace {

constexpr std::size_t kMax = kDefaultMaxTextCodePoints;
constexpr std::string_view kEmoji = "\xF0\x9F\x98\x80";  // 😀, 4 bytes
constexpr std::uint64_t kTwoTo53 = 9007199254740992;

// Strings that need escaping: quotes, backslashes, control characters, NUL,
// raw newlines, and multi-byte characters.
const std::vector<std::string> kTricky = {
    "say \"hi\"",
    R"(back\slash\\)",
    "line\nbreak\r\n",
    "tab\there",
    std::string("nul\0inside", 10),
    "\x01\x07\x1B\x1F\x7F",
    "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8 \xE4\xB8\xAD",  // é, 😀, U+2028, 中
    "</script>{\"type\":\"x\"}",
    "",
};

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += unit;
  return out;
}

// The decoded frame; a failure (and a default frame) when it was refused.
V1ClientFrame accepted(std::string_view json, std::size_t maxText = kMax) {
  const auto r = decodeV1Frame(json, maxText);
  EXPECT_FALSE(r.ignore) << json;
  EXPECT_FALSE(r.refusal.has_value())
      << json << " refused: " << (r.refusal ? r.refusal->message : std::string()) << " ("
      << (r.refusal ? refusalLabel(r.refusal->reason) : std::string_view()) << ")";
  if (!r.frame) {
    ADD_FAILURE() << "no frame for " << json;
    return {};
  }
  return *r.frame;
}

// Refused with code invalid, the given reason, a short message, and `ref`
// echoed (empty: none).
void expectRefused(std::string_view json, Refusal expected, std::string_view ref = {},
                   std::size_t maxText = kMax) {
  SCOPED_TRACE(testing::PrintToString(std::string(json)));
  const auto r = decodeV1Frame(json, maxText);
  EXPECT_FALSE(r.frame.has_value());
  EXPECT_FALSE(r.ignore);
  ASSERT_TRUE(r.refusal.has_value());
  EXPECT_EQ(r.refusal->code, V1ErrorCode::kInvalid);
  EXPECT_EQ(r.refusal->reason, expected)
      << "got " << refusalLabel(r.refusal->reason) << " (" << r.refusal->message << "), expected "
      << refusalLabel(expected);
  EXPECT_FALSE(r.refusal->message.empty());
  EXPECT_LE(r.refusal->message.size(), 100u) << r.refusal->message;
  EXPECT_EQ(r.refusal->message.find('\n'), std::string::npos);
  EXPECT_EQ(r.refusal->ref, ref);
}

// Parses server output strictly (valid UTF-8, one JSON value).
rapidjson::Document parseStrict(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  return doc;
}

std::string getString(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// The output is one JSON object without raw control bytes (so no raw newline:
// v1 batching splits on it) and with exactly the members named.
void expectObjectWithMembers(const std::string& json, const rapidjson::Document& doc,
                             std::vector<std::string_view> names) {
  for (char c : json)
    ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "raw control byte in " << json;
  ASSERT_FALSE(doc.HasParseError()) << json;
  ASSERT_TRUE(doc.IsObject()) << json;
  EXPECT_EQ(doc.MemberCount(), names.size()) << json;
  for (auto name : names) {
    EXPECT_TRUE(doc.HasMember(std::string(name).c_str())) << name << " missing in " << json;
  }
}

void expectStringMember(const rapidjson::Document& doc, const char* name, std::string_view value) {
  const auto it = doc.FindMember(name);
  ASSERT_NE(it, doc.MemberEnd()) << name;
  ASSERT_TRUE(it->value.IsString()) << name;
  EXPECT_EQ(getString(it->value), value) << name;
}

// ================================================================ decoding

// --------------------------------------------------------------- message

TEST(V1DecodeAuthTest, AuthAndRefreshCarryAToken) {
  for (const std::string type : {"auth", "refresh"}) {
    const auto r = decodeV1Frame(R"({"type":")" + type + R"(","token":"a.b.c","ref":"t1"})", 100);
    ASSERT_TRUE(r.frame) << type;
    EXPECT_EQ(r.frame->type, type == "auth" ? V1FrameType::kAuth : V1FrameType::kRefresh);
    EXPECT_EQ(r.frame->token, "a.b.c");
    EXPECT_EQ(r.frame->ref, "t1");
    for (const std::string bad : {R"(,"token":"")", R"(,"token":5)", ""}) {
      const auto refused = decodeV1Frame(R"({"type":")" + type + "\"" + bad + "}", 100);
      EXPECT_TRUE(refused.refusal) << type << bad;
    }
  }
  EXPECT_EQ(encodeRefreshed(1800000000), R"({"type":"refreshed","exp":1800000000})");
}

TEST(V1DecodeMessageTest, AcceptsTheProtocolExample) {
  const auto f = accepted(R"({"type":"message","room":"lobby","text":"hi","ref":"c1"})");
  EXPECT_EQ(f.type, V1FrameType::kMessage);
  EXPECT_EQ(f.room, "lobby");
  EXPECT_EQ(f.text, "hi");
  EXPECT_EQ(f.ref, "c1");
}

TEST(V1DecodeMessageTest, RoomAndRefAreOptional) {
  const auto f = accepted(R"({"type":"message","text":"hi"})");
  EXPECT_EQ(f.type, V1FrameType::kMessage);
  EXPECT_EQ(f.room, "");
  EXPECT_EQ(f.ref, "");
  EXPECT_EQ(f.text, "hi");
  // An empty room means "not given", and so does null.
  EXPECT_EQ(accepted(R"({"type":"message","room":"","text":"hi"})").room, "");
  EXPECT_EQ(accepted(R"({"type":"message","room":null,"ref":null,"text":"hi"})").room, "");
}

TEST(V1DecodeMessageTest, KeepsTextAsSentAndDecodesEscapes) {
  EXPECT_EQ(accepted(R"({"type":"message","text":"  hi  "})").text, "  hi  ");
  EXPECT_EQ(accepted(R"({"type":"message","text":"\"q\" \\ \/ a\nb \u00e9 \ud83d\ude00"})").text,
            "\"q\" \\ / a\nb \xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(V1DecodeMessageTest, TextUpToTheLimitInCodePoints) {
  const std::string ok = repeat(kEmoji, 2000);
  EXPECT_EQ(accepted(R"({"type":"message","text":")" + ok + "\"}").text, ok);
  expectRefused(R"({"type":"message","text":")" + repeat(kEmoji, 2001) + "\"}",
                Refusal::kTextTooLong);
  expectRefused(R"({"type":"message","text":")" + std::string(2001, 'x') + "\"}",
                Refusal::kTextTooLong);
  // The configured limit.
  EXPECT_EQ(accepted(R"({"type":"message","text":"12345"})", 5).text, "12345");
  expectRefused(R"({"type":"message","text":"123456","ref":"r"})", Refusal::kTextTooLong, "r", 5);
}

TEST(V1DecodeMessageTest, TooLongTextIsInvalidAndSaysTheLimit) {
  const auto r = decodeV1Frame(R"({"type":"message","text":"123456"})", 5);
  ASSERT_TRUE(r.refusal.has_value());
  EXPECT_EQ(r.refusal->code, V1ErrorCode::kInvalid);  // section 5: "text length ... invalid"
  EXPECT_NE(r.refusal->message.find('5'), std::string::npos) << r.refusal->message;
}

TEST(V1DecodeMessageTest, WhiteSpaceOnlyTextIsAnError) {
  // Plain clients are silently ignored; v1 clients get an error.
  for (std::string_view text : {"", " ", "\\n\\t ", "\\u00a0", "\\u3000"}) {
    expectRefused(R"({"type":"message","ref":"c9","text":")" + std::string(text) + "\"}",
                  Refusal::kEmptyText, "c9");
  }
}

TEST(V1DecodeMessageTest, TextIsRequiredAndMustBeAString) {
  expectRefused(R"({"type":"message"})", Refusal::kMissingField);
  expectRefused(R"({"type":"message","ref":"c1","room":"lobby"})", Refusal::kMissingField, "c1");
  for (std::string_view v : {"1", "null", "true", "[]", R"({"a":1})", R"(["hi"])"}) {
    expectRefused(R"({"type":"message","ref":"c1","text":)" + std::string(v) + "}",
                  Refusal::kWrongType, "c1");
  }
}

TEST(V1DecodeMessageTest, RefusesNulAndInvalidUtf8InText) {
  expectRefused(R"({"type":"message","ref":"c1","text":"a\u0000b"})", Refusal::kTextHasNul, "c1");
  // JSON escapes can describe a lone low surrogate, which is not UTF-8.
  expectRefused(R"({"type":"message","ref":"c1","text":"x\udc00y"})", Refusal::kBadField,
                "c1");  // a bad field, not bad bytes
  // Unpaired high surrogates are already malformed JSON for RapidJSON.
  expectRefused(R"({"type":"message","text":"x\ud800y"})", Refusal::kInvalidJson);
}

TEST(V1DecodeMessageTest, RefRules) {
  const std::string ref64(64, 'r');
  EXPECT_EQ(accepted(R"({"type":"message","text":"hi","ref":")" + ref64 + "\"}").ref, ref64);
  EXPECT_EQ(
      accepted(R"({"type":"message","text":"hi","ref":"caf\u00e9-)" + std::string(kEmoji) + "\"}")
          .ref,
      "caf\xC3\xA9-" + std::string(kEmoji));
  // Too long: still echoed, so the client can tell which send failed.
  const std::string ref65(65, 'r');
  expectRefused(R"({"type":"message","text":"hi","ref":")" + ref65 + "\"}", Refusal::kBadField,
                ref65);
  // 16 emoji are 16 characters but 64 bytes; 17 are 68 bytes.
  expectRefused(R"({"type":"message","text":"hi","ref":")" + repeat(kEmoji, 17) + "\"}",
                Refusal::kBadField, repeat(kEmoji, 17));
  EXPECT_EQ(accepted(R"({"type":"message","text":"hi","ref":")" + repeat(kEmoji, 16) + "\"}").ref,
            repeat(kEmoji, 16));
  // Control characters (C0, DEL, C1) are refused; the ref is echoed decoded.
  const std::vector<std::pair<std::string_view, std::string>> controls = {
      {R"(\n)", "\n"},           {R"(\t)", "\t"},       {R"(\u0000)", std::string(1, '\0')},
      {R"(\u001f)", "\x1F"},     {R"(\u007f)", "\x7F"}, {R"(\u0085)", "\xC2\x85"},
      {R"(\u009f)", "\xC2\x9F"},
  };
  for (const auto& [escaped, decoded] : controls) {
    expectRefused(R"({"type":"message","text":"hi","ref":"a)" + std::string(escaped) + "b\"}",
                  Refusal::kBadField, "a" + decoded + "b");
  }
}

TEST(V1DecodeMessageTest, RefMustBeAStringAndIsThenNotEchoed) {
  for (std::string_view v : {"1", "true", "[]", R"({"r":"c1"})", R"(["c1"])"}) {
    expectRefused(R"({"type":"message","text":"hi","ref":)" + std::string(v) + "}",
                  Refusal::kWrongType);
  }
}

TEST(V1DecodeMessageTest, RefThatIsNotUtf8AfterUnescapingIsNotEchoed) {
  // The error frame would carry invalid UTF-8 and the client would have to
  // close the connection with 1007.
  expectRefused(R"({"type":"message","text":"hi","ref":"a\udc00"})", Refusal::kBadField);
  expectRefused(R"({"type":"bogus","ref":"a\udc00"})", Refusal::kUnknownType);
}

// ------------------------------------------------------------------ join

TEST(V1DecodeJoinTest, AcceptsTheProtocolExample) {
  const auto f = accepted(R"({"type":"join","room":"dev","since":17,"epoch":"k3f9a1"})");
  EXPECT_EQ(f.type, V1FrameType::kJoin);
  EXPECT_EQ(f.room, "dev");
  EXPECT_EQ(f.since, std::optional<std::uint64_t>(17));
  EXPECT_EQ(f.epoch, "k3f9a1");
}

TEST(V1DecodeJoinTest, SinceAndEpochAreOptional) {
  const auto f = accepted(R"({"type":"join","room":"dev"})");
  EXPECT_EQ(f.room, "dev");
  EXPECT_FALSE(f.since.has_value());
  EXPECT_EQ(f.epoch, "");
  const auto g = accepted(R"({"type":"join","room":"dev","since":null,"epoch":null})");
  EXPECT_FALSE(g.since.has_value());
  EXPECT_EQ(g.epoch, "");
  EXPECT_EQ(accepted(R"({"type":"join","room":"dev","since":3})").epoch, "");
  EXPECT_EQ(accepted(R"({"type":"join","since":3,"epoch":""})").epoch, "");
  EXPECT_EQ(accepted(R"({"type":"join"})").room, "");
}

TEST(V1DecodeJoinTest, SinceFromZeroToTwoToTheFiftyThird) {
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","since":0})").since,
            std::optional<std::uint64_t>(0));
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","since":9007199254740992})").since,
            std::optional<std::uint64_t>(kTwoTo53));
  for (std::string_view v : {"-1", "-9007199254740992", "1.5", "17.0", "1e3", "9007199254740993",
                             "18446744073709551615", "18446744073709551616", "1e300"}) {
    expectRefused(R"({"type":"join","room":"a","ref":"j1","since":)" + std::string(v) + "}",
                  Refusal::kBadField, "j1");
  }
  for (std::string_view v : {R"("17")", "true", "[17]", R"({"id":17})"}) {
    expectRefused(R"({"type":"join","room":"a","since":)" + std::string(v) + "}",
                  Refusal::kWrongType);
  }
}

TEST(V1DecodeJoinTest, AnEpochThatCannotBeARoomsIsForeignNotAnError) {
  const std::string epoch32 = repeat("a1", 16);
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","since":1,"epoch":")" + epoch32 + "\"}").epoch,
            epoch32);
  // Stale or foreign values a client kept: the join goes on without recovery.
  for (std::string_view v : {"K3F9A1", "k3-f9", "k3 f9", "k3_f9", "\\u00e9", "k3f9a1\\n"}) {
    EXPECT_EQ(accepted(R"({"type":"join","room":"a","epoch":")" + std::string(v) + "\"}").epoch,
              kForeignEpoch);
  }
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","epoch":")" + epoch32 + "x\"}").epoch,
            kForeignEpoch);
  for (std::string_view v : {"42", "true", R"(["k3f9a1"])"}) {
    expectRefused(R"({"type":"join","room":"a","epoch":)" + std::string(v) + "}",
                  Refusal::kWrongType);
  }
}

// ----------------------------------------------------------------- ref of an oversized frame

TEST(RefInPrefixTest, FindsTheTopLevelRefNearTheStart) {
  EXPECT_EQ(refInPrefix(R"({"type":"message","ref":"big1","text":"aaaa)"), "big1");
  EXPECT_EQ(refInPrefix(R"({ "ref" : "c-7" , "text":"x"})"), "c-7");
  EXPECT_EQ(refInPrefix(R"({"text":"say \"ref\":\"no\"","ref":"yes"})"), "yes");
  EXPECT_EQ(refInPrefix(R"({"a":{"ref":"nested"},"ref":"top"})"), "top");
}

TEST(RefInPrefixTest, NothingWhenTheRefIsCutOffOrAbsent) {
  EXPECT_EQ(refInPrefix(R"({"type":"message","text":"aaaa)"), std::nullopt);
  EXPECT_EQ(refInPrefix(R"({"type":"message","ref":"bi)"), std::nullopt);
  EXPECT_EQ(refInPrefix(R"({"type":"message","ref":17})"), std::nullopt);
  EXPECT_EQ(refInPrefix("not json"), std::nullopt);
}

// ----------------------------------------------------------------- leave

TEST(V1DecodeLeaveTest, AcceptsTheProtocolExample) {
  const auto f = accepted(R"({"type":"leave","room":"dev"})");
  EXPECT_EQ(f.type, V1FrameType::kLeave);
  EXPECT_EQ(f.room, "dev");
  EXPECT_EQ(accepted(R"({"type":"leave"})").room, "");
}

TEST(V1DecodeLeaveTest, RefusesABadRoom) {
  expectRefused(R"({"type":"leave","room":"no spaces","ref":"l1"})", Refusal::kBadRoom, "l1");
  expectRefused(R"({"type":"leave","room":7})", Refusal::kWrongType);
}

// --------------------------------------------------------------- history

TEST(V1DecodeHistoryTest, AcceptsTheProtocolExample) {
  const auto f = accepted(R"({"type":"history","room":"lobby","before":42,"limit":50})");
  EXPECT_EQ(f.type, V1FrameType::kHistory);
  EXPECT_EQ(f.room, "lobby");
  EXPECT_EQ(f.before, std::optional<std::uint64_t>(42));
  EXPECT_EQ(f.limit, 50u);
}

TEST(V1DecodeHistoryTest, BeforeIsOptionalAndLimitDefaultsToFifty) {
  const auto f = accepted(R"({"type":"history","room":"lobby"})");
  EXPECT_FALSE(f.before.has_value());
  EXPECT_EQ(f.limit, 50u);
  EXPECT_EQ(kDefaultHistoryLimit, 50u);
  const auto g = accepted(R"({"type":"history","before":null,"limit":null})");
  EXPECT_FALSE(g.before.has_value());
  EXPECT_EQ(g.limit, 50u);
}

TEST(V1DecodeHistoryTest, LimitFromOneToOneHundred) {
  EXPECT_EQ(accepted(R"({"type":"history","limit":1})").limit, 1u);
  EXPECT_EQ(accepted(R"({"type":"history","limit":100})").limit, 100u);
  for (std::string_view v :
       {"0", "101", "-1", "-50", "2.5", "50.0", "1e2", "1000000", "18446744073709551616"}) {
    expectRefused(R"({"type":"history","ref":"h1","limit":)" + std::string(v) + "}",
                  Refusal::kBadField, "h1");
  }
  for (std::string_view v : {R"("50")", "false", "[50]"}) {
    expectRefused(R"({"type":"history","limit":)" + std::string(v) + "}", Refusal::kWrongType);
  }
}

TEST(V1DecodeHistoryTest, BeforeFromOneToTwoToTheFiftyThird) {
  EXPECT_EQ(accepted(R"({"type":"history","before":1})").before, std::optional<std::uint64_t>(1));
  EXPECT_EQ(accepted(R"({"type":"history","before":9007199254740992})").before,
            std::optional<std::uint64_t>(kTwoTo53));
  for (std::string_view v : {"0", "-1", "1.5", "42.0", "4e1", "9007199254740993", "1e300"}) {
    expectRefused(R"({"type":"history","before":)" + std::string(v) + "}", Refusal::kBadField);
  }
  for (std::string_view v : {R"("42")", "true", "{}"}) {
    expectRefused(R"({"type":"history","before":)" + std::string(v) + "}", Refusal::kWrongType);
  }
}

// ------------------------------------------------------- rooms, all types

TEST(V1DecodeRoomTest, ValidNamesOfOneToSixtyFourCharacters) {
  const std::string room64(64, 'r');
  for (std::string_view type : {"message", "join", "leave", "history"}) {
    SCOPED_TRACE(std::string(type));
    const std::string head = R"({"type":")" + std::string(type) + R"(","text":"hi","room":")";
    EXPECT_EQ(accepted(head + "a\"}").room, "a");
    EXPECT_EQ(accepted(head + room64 + "\"}").room, room64);
    EXPECT_EQ(accepted(head + "AZaz09_.-\"}").room, "AZaz09_.-");
  }
}

TEST(V1DecodeRoomTest, BadNamesAreRefusedForEveryType) {
  for (std::string_view type : {"message", "join", "leave", "history"}) {
    for (const std::string& room :
         {std::string(65, 'r'), std::string("a b"), std::string("lobby!"), std::string("a/b"),
          std::string("caf\\u00e9"), std::string("\\n"), std::string("\\u0000")}) {
      expectRefused(
          R"({"type":")" + std::string(type) + R"(","text":"hi","ref":"x","room":")" + room + "\"}",
          Refusal::kBadRoom, "x");
    }
    for (std::string_view v : {"1", "true", R"(["lobby"])", R"({"name":"lobby"})"}) {
      expectRefused(
          R"({"type":")" + std::string(type) + R"(","text":"hi","room":)" + std::string(v) + "}",
          Refusal::kWrongType);
    }
  }
}

// ------------------------------------------------------------ the frame

TEST(V1DecodeTest, UnknownFieldsAreIgnored) {
  const auto f = accepted(
      R"({"type":"message","text":"hi","username":"mallory","id":99,"ts":1,"epoch":7,)"
      R"("since":"x","limit":0,"before":-1,"extra":{"nested":[1,2,{"x":null}]},"n":1.5e10})");
  EXPECT_EQ(f.text, "hi");
  // Fields of other frame types are unknown fields here: ignored, not checked.
  EXPECT_FALSE(f.since.has_value());
  EXPECT_EQ(f.epoch, "");
  EXPECT_EQ(f.limit, 50u);
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","text":42,"limit":0})").room, "a");
  EXPECT_EQ(accepted(R"({"type":"leave","room":"a","since":-1,"epoch":"BAD"})").room, "a");
  EXPECT_EQ(accepted(R"({"type":"history","room":"a","text":"","since":"x"})").room, "a");
}

TEST(V1DecodeTest, FieldOrderAndWhiteSpaceDoNotMatter) {
  const auto f = accepted(" {\n \"ref\" : \"c1\" ,\t\"text\":\"hi\", \"type\":\"message\" } \r\n");
  EXPECT_EQ(f.type, V1FrameType::kMessage);
  EXPECT_EQ(f.ref, "c1");
}

TEST(V1DecodeTest, RefIsReadForEveryType) {
  EXPECT_EQ(accepted(R"({"type":"join","room":"a","ref":"j1"})").ref, "j1");
  EXPECT_EQ(accepted(R"({"type":"leave","ref":"l1"})").ref, "l1");
  EXPECT_EQ(accepted(R"({"type":"history","ref":"h1"})").ref, "h1");
}

TEST(V1DecodeTest, EmptyOrWhiteSpaceFramesAreIgnored) {
  for (std::string_view json : {"", " ", "\n", "\r\n", " \t\n "}) {
    const auto r = decodeV1Frame(json, kMax);
    EXPECT_TRUE(r.ignore) << testing::PrintToString(std::string(json));
    EXPECT_FALSE(r.frame.has_value());
    EXPECT_FALSE(r.refusal.has_value());
  }
}

TEST(V1DecodeTest, TypeIsRequired) {
  expectRefused("{}", Refusal::kMissingField);
  expectRefused(R"({"text":"hi","ref":"c1"})", Refusal::kMissingField, "c1");
  expectRefused(R"({"Type":"message","text":"hi"})", Refusal::kMissingField);
}

TEST(V1DecodeTest, TypeMustBeAString) {
  for (std::string_view v : {"1", "null", "true", "[]", R"(["message"])", R"({"t":"message"})"}) {
    expectRefused(R"({"ref":"c1","text":"hi","type":)" + std::string(v) + "}", Refusal::kWrongType,
                  "c1");
  }
}

TEST(V1DecodeTest, UnknownTypes) {
  for (std::string_view type : {"", "Message", "MESSAGE", "message ", "ping", "welcome", "joined",
                                "ack", "error", "presence", "msg", "message\\u0000"}) {
    expectRefused(R"({"ref":"c1","text":"hi","type":")" + std::string(type) + "\"}",
                  Refusal::kUnknownType, "c1");
  }
}

TEST(V1DecodeTest, RefIsEchoedWhateverTheRefusal) {
  expectRefused(R"({"ref":"c1"})", Refusal::kMissingField, "c1");
  expectRefused(R"({"ref":"c2","type":"nope"})", Refusal::kUnknownType, "c2");
  expectRefused(R"({"ref":"c3","type":"message","room":"bad room","text":"hi"})", Refusal::kBadRoom,
                "c3");
  expectRefused(R"({"type":"message","text":" ","ref":"c4"})", Refusal::kEmptyText, "c4");
  expectRefused(R"({"type":"join","since":-1,"ref":"c5"})", Refusal::kBadField, "c5");
  expectRefused(R"({"type":"history","limit":0,"ref":"c6"})", Refusal::kBadField, "c6");
  // Escaped characters in the ref come back decoded (encodeError escapes them again).
  expectRefused(R"({"type":"nope","ref":"\"q\"\u00e9"})", Refusal::kUnknownType, "\"q\"\xC3\xA9");
  // Nothing to echo when the frame is not an object with a string ref.
  expectRefused(R"(["ref","c1"])", Refusal::kNotAnObject);
  expectRefused(R"({"ref":"c1","type":"message")", Refusal::kInvalidJson);
}

TEST(V1DecodeTest, RefusesInvalidUtf8Anywhere) {
  const std::vector<std::string> bad = {"\xC0\x80",         "\xED\xA0\x80", "\xC3",
                                        "\xF4\x90\x80\x80", "\x80",         "\xFF"};
  for (const auto& b : bad) {
    SCOPED_TRACE(testing::PrintToString(b));
    expectRefused(R"({"type":"message","ref":"c1","text":"x)" + b + "\"}", Refusal::kInvalidUtf8);
    expectRefused(R"({"type":"message","text":"hi","other":")" + b + "\"}", Refusal::kInvalidUtf8);
    expectRefused(R"({"type":"leave"} )" + b, Refusal::kInvalidUtf8);
  }
}

TEST(V1DecodeTest, RefusesInvalidJson) {
  for (std::string_view json : {
           "{",
           "}",
           "not json",
           R"({"type":"leave")",
           R"({"type":"leave"}})",
           R"({"type":"leave"} {})",
           R"({"type":"leave"} x)",
           R"({"type":"leave",})",
           R"({'type':'leave'})",
           R"({type:"leave"})",
           R"({"type":"message","text":"b\x"})",
           R"({"type":"message","text":"b\u12"})",
           "{\"type\":\"message\",\"text\":\"raw\nnewline\"}",
           R"({"type":"history","limit":NaN})",
           R"({"type":"history","limit":1e400})",
       }) {
    expectRefused(json, Refusal::kInvalidJson);
  }
}

TEST(V1DecodeTest, RefusesNulBytesOutsideStrings) {
  const std::string object = R"({"type":"leave"})";
  expectRefused(object + std::string(1, '\0'), Refusal::kInvalidJson);
  expectRefused(object + std::string(1, '\0') + "junk", Refusal::kInvalidJson);
  expectRefused(std::string(1, '\0') + object, Refusal::kInvalidJson);
  expectRefused(std::string(1, '\0'), Refusal::kInvalidJson);
}

TEST(V1DecodeTest, RefusesJsonThatIsNotAnObject) {
  for (std::string_view json : {"[]", R"(["type","message"])", R"("message")", "42", "null", "true",
                                R"([{"type":"leave"}])"}) {
    expectRefused(json, Refusal::kNotAnObject);
  }
}

TEST(V1DecodeTest, SurvivesDeepNesting) {
  // Iterative parsing: neither a deep unknown field nor a deep malformed frame
  // grows the stack.
  const std::size_t depth = 100000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_EQ(accepted(R"({"type":"leave","room":"a","x":)" + deep + "}").room, "a");
  expectRefused(std::string(depth, '['), Refusal::kInvalidJson);
  expectRefused(deep, Refusal::kNotAnObject);
  expectRefused(repeat(R"({"a":)", depth), Refusal::kInvalidJson);
}

TEST(V1DecodeTest, NewRefusalsHaveLabelsAndCloseWith1007) {
  EXPECT_EQ(refusalLabel(Refusal::kUnknownType), "unknown_type");
  EXPECT_EQ(refusalLabel(Refusal::kBadField), "bad_field");
  EXPECT_EQ(plainCloseCode(Refusal::kUnknownType), CloseCode::kInvalidPayload);
  EXPECT_EQ(plainCloseCode(Refusal::kBadField), CloseCode::kInvalidPayload);
  for (std::size_t i = 0; i < kRefusalCount; ++i) {
    EXPECT_NE(refusalLabel(static_cast<Refusal>(i)), "unknown") << i;
  }
}

// ================================================================ encoding

TEST(V1ErrorCodeTest, NamesMatchTheProtocol) {
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kInvalid), "invalid");
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kTooLarge), "too_large");
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kRateLimited), "rate_limited");
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kForbidden), "forbidden");
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kUnavailable), "unavailable");
  EXPECT_EQ(v1ErrorCodeName(V1ErrorCode::kNotJoined), "not_joined");
}

TEST(V1EncodeTest, Welcome) {
  const auto json = encodeWelcome("c-17", "alice", "gw-1:4242");
  EXPECT_EQ(json, R"({"type":"welcome","conn":"c-17","username":"alice","gateway":"gw-1:4242"})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "conn", "username", "gateway"});
  expectStringMember(doc, "type", "welcome");
}

TEST(V1EncodeTest, JoinedAsInTheProtocol) {
  const auto json = encodeJoined("lobby", "k3f9a1", 42, true, {"alice"}, 1234);
  EXPECT_EQ(json,
            R"({"type":"joined","room":"lobby","epoch":"k3f9a1","last_id":42,"recovered":true,)"
            R"("presence":[{"username":"alice"}],"online":1234})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc,
                          {"type", "room", "epoch", "last_id", "recovered", "presence", "online"});
  EXPECT_TRUE(doc["last_id"].IsUint64());
  EXPECT_EQ(doc["last_id"].GetUint64(), 42u);
  EXPECT_TRUE(doc["recovered"].IsTrue());
}

TEST(V1EncodeTest, JoinedOmitsRecoveredWithoutSince) {
  const auto json = encodeJoined("dev", "e1", 0, std::nullopt, {}, 0);
  EXPECT_EQ(json,
            R"({"type":"joined","room":"dev","epoch":"e1","last_id":0,"presence":[],"online":0})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "room", "epoch", "last_id", "presence", "online"});
  EXPECT_EQ(doc["last_id"].GetUint64(), 0u);
  EXPECT_TRUE(doc["presence"].IsArray());
  EXPECT_EQ(doc["presence"].Size(), 0u);
}

TEST(V1EncodeTest, JoinedNotRecoveredWithManyUsers) {
  const std::vector<std::string> users = {"alice", "bob", "caf\xC3\xA9", "q\"uote"};
  const auto json =
      encodeJoined("dev", "e1", std::numeric_limits<std::uint64_t>::max(), false, users, 4);
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc,
                          {"type", "room", "epoch", "last_id", "recovered", "presence", "online"});
  EXPECT_TRUE(doc["recovered"].IsFalse());
  EXPECT_EQ(doc["last_id"].GetUint64(), std::numeric_limits<std::uint64_t>::max());
  const auto& presence = doc["presence"];
  ASSERT_TRUE(presence.IsArray());
  ASSERT_EQ(presence.Size(), users.size());
  for (rapidjson::SizeType i = 0; i < presence.Size(); ++i) {
    ASSERT_TRUE(presence[i].IsObject());
    EXPECT_EQ(presence[i].MemberCount(), 1u);
    ASSERT_TRUE(presence[i]["username"].IsString());
    EXPECT_EQ(getString(presence[i]["username"]), users[i]);
  }
}

TEST(V1EncodeTest, AckAsInTheProtocol) {
  const auto json = encodeAck("c1", 43, 1764028800999);
  EXPECT_EQ(json, R"({"type":"ack","ref":"c1","id":43,"ts":1764028800999})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "ref", "id", "ts"});
  EXPECT_EQ(doc["id"].GetUint64(), 43u);
  EXPECT_EQ(doc["ts"].GetInt64(), 1764028800999);
}

TEST(V1EncodeTest, AckNumbersAtTheirLimits) {
  const auto json = encodeAck("", std::numeric_limits<std::uint64_t>::max(),
                              std::numeric_limits<std::int64_t>::min());
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "ref", "id", "ts"});
  EXPECT_EQ(doc["id"].GetUint64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(doc["ts"].GetInt64(), std::numeric_limits<std::int64_t>::min());
}

TEST(V1EncodeTest, ErrorWithAndWithoutRef) {
  EXPECT_EQ(encodeError("c1", V1ErrorCode::kInvalid, "text is empty"),
            R"({"type":"error","ref":"c1","code":"invalid","message":"text is empty"})");
  EXPECT_EQ(encodeError("", V1ErrorCode::kNotJoined, "join the room first"),
            R"({"type":"error","code":"not_joined","message":"join the room first"})");
  for (auto code : {V1ErrorCode::kInvalid, V1ErrorCode::kTooLarge, V1ErrorCode::kRateLimited,
                    V1ErrorCode::kForbidden, V1ErrorCode::kUnavailable, V1ErrorCode::kNotJoined}) {
    const auto json = encodeError("r", code, "m");
    const auto doc = parseStrict(json);
    expectObjectWithMembers(json, doc, {"type", "ref", "code", "message"});
    expectStringMember(doc, "code", v1ErrorCodeName(code));
  }
}

TEST(V1EncodeTest, ErrorFromADecodeRefusal) {
  const auto r = decodeV1Frame(R"({"type":"message","text":" ","ref":"a\"b\nc"})", kMax);
  ASSERT_TRUE(r.refusal.has_value());
  const auto json = encodeError(r.refusal->ref, r.refusal->code, r.refusal->message);
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "ref", "code", "message"});
  expectStringMember(doc, "ref", "a\"b\nc");
  expectStringMember(doc, "code", "invalid");
}

TEST(V1EncodeTest, PresenceAsInTheProtocol) {
  const auto json = encodePresence("lobby", "join", "bob");
  EXPECT_EQ(json, R"({"type":"presence","room":"lobby","event":"join","username":"bob"})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "room", "event", "username"});
}

TEST(V1EncodeTest, HistoryWithNoFrames) {
  const auto json = encodeHistory("lobby", {});
  EXPECT_EQ(json, R"({"type":"history","room":"lobby","messages":[]})");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "room", "messages"});
  ASSERT_TRUE(doc["messages"].IsArray());
  EXPECT_EQ(doc["messages"].Size(), 0u);
}

TEST(V1EncodeTest, HistoryWithOneFrame) {
  const auto frame =
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("alice", "hi"));
  const auto json = encodeHistory("lobby", {frame});
  EXPECT_EQ(json, R"({"type":"history","room":"lobby","messages":[)" + frame + "]}");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "room", "messages"});
  ASSERT_EQ(doc["messages"].Size(), 1u);
  const auto& m = doc["messages"][0];
  ASSERT_TRUE(m.IsObject());
  EXPECT_EQ(getString(m["type"]), "message");
  EXPECT_EQ(m["id"].GetUint64(), 42u);
  EXPECT_EQ(getString(m["text"]), "hi");
}

TEST(V1EncodeTest, HistoryWithThreeFramesKeepsThemVerbatimAndInOrder) {
  std::vector<std::string> stored;
  for (std::uint64_t id = 7; id <= 9; ++id) {
    stored.push_back(composeStoredFrame(
        "dev", "e1", id, 1000 + static_cast<std::int64_t>(id),
        encodeMessageBody("u" + std::to_string(id), "line\nbreak \"" + std::to_string(id))));
  }
  const std::vector<std::string_view> views(stored.begin(), stored.end());
  const auto json = encodeHistory("dev", views);
  EXPECT_EQ(json, R"({"type":"history","room":"dev","messages":[)" + stored[0] + "," + stored[1] +
                      "," + stored[2] + "]}");
  const auto doc = parseStrict(json);
  expectObjectWithMembers(json, doc, {"type", "room", "messages"});
  const auto& messages = doc["messages"];
  ASSERT_EQ(messages.Size(), 3u);
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    EXPECT_EQ(messages[i]["id"].GetUint64(), 7u + i);
    EXPECT_EQ(getString(messages[i]["text"]), "line\nbreak \"" + std::to_string(7 + i));
  }
}

// Every string parameter of every encoder, with every tricky string: the
// output is strict JSON, has no raw control byte, and gives the string back.
TEST(V1EncodeTest, EscapesEveryStringInEveryEncoder) {
  for (const auto& s : kTricky) {
    SCOPED_TRACE(testing::PrintToString(s));
    struct Case {
      std::string json;
      std::vector<std::string_view> members;
      std::vector<const char*> holding;  // members that must equal `s`
    };
    const std::vector<Case> cases = {
        {encodeWelcome(s, "u", "g"), {"type", "conn", "username", "gateway"}, {"conn"}},
        {encodeWelcome("c", s, "g"), {"type", "conn", "username", "gateway"}, {"username"}},
        {encodeWelcome("c", "u", s), {"type", "conn", "username", "gateway"}, {"gateway"}},
        {encodeJoined(s, s, 1, true, {}, 0),
         {"type", "room", "epoch", "last_id", "recovered", "presence", "online"},
         {"room", "epoch"}},
        {encodeAck(s, 1, 2), {"type", "ref", "id", "ts"}, {"ref"}},
        {encodeError("r", V1ErrorCode::kInvalid, s),
         {"type", "ref", "code", "message"},
         {"message"}},
        {encodePresence(s, s, s),
         {"type", "room", "event", "username"},
         {"room", "event", "username"}},
        {encodeHistory(s, {}), {"type", "room", "messages"}, {"room"}},
    };
    for (const auto& c : cases) {
      SCOPED_TRACE(c.json);
      EXPECT_EQ(c.json.find('\n'), std::string::npos);
      const auto doc = parseStrict(c.json);
      expectObjectWithMembers(c.json, doc, c.members);
      for (const char* name : c.holding)
        expectStringMember(doc, name, s);
    }
    // Presence user names and error refs.
    const auto joined = encodeJoined("a", "e", 1, std::nullopt, {s, s}, 2);
    EXPECT_EQ(joined.find('\n'), std::string::npos);
    const auto doc = parseStrict(joined);
    ASSERT_FALSE(doc.HasParseError()) << joined;
    ASSERT_EQ(doc["presence"].Size(), 2u);
    EXPECT_EQ(getString(doc["presence"][1]["username"]), s);
    const auto error = encodeError(s, V1ErrorCode::kForbidden, "m");
    const auto errorDoc = parseStrict(error);
    ASSERT_FALSE(errorDoc.HasParseError()) << error;
    if (s.empty()) {
      EXPECT_FALSE(errorDoc.HasMember("ref"));
    } else {
      expectStringMember(errorDoc, "ref", s);
    }
  }
}

TEST(V1EncodeTest, EscapesAsJsonRequires) {
  EXPECT_EQ(encodePresence("a", "join", "q\"b\\n\nt\tc\x01"),
            R"({"type":"presence","room":"a","event":"join","username":"q\"b\\n\nt\tc\u0001"})");
  // Multi-byte characters are kept as UTF-8.
  EXPECT_EQ(
      encodePresence("a", "join", "caf\xC3\xA9"),
      "{\"type\":\"presence\",\"room\":\"a\",\"event\":\"join\",\"username\":\"caf\xC3\xA9\"}");
}

// ------------------------------------------------------ parsePresenceEvent

TEST(ParsePresenceEventTest, ReadsBackEncodedEvents) {
  for (std::string_view event : {"join", "leave"}) {
    for (const std::string& user :
         {std::string("bob"), std::string("caf\xC3\xA9 \"x\"\n"), std::string(kEmoji)}) {
      const auto p = parsePresenceEvent(encodePresence("lobby-2.x_Y", event, user));
      ASSERT_TRUE(p.has_value());
      EXPECT_EQ(p->room, "lobby-2.x_Y");
      EXPECT_EQ(p->event, event);
      EXPECT_EQ(p->username, user);
    }
  }
}

TEST(ParsePresenceEventTest, ReadsBackCounts) {
  EXPECT_EQ(encodePresenceCount("big", 1234), R"({"type":"presence","room":"big","online":1234})");
  const auto p = parsePresenceEvent(encodePresenceCount("big", 1234));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->room, "big");
  EXPECT_EQ(p->online, 1234u);
  EXPECT_TRUE(p->event.empty() && p->username.empty());
  EXPECT_FALSE(parsePresenceEvent(encodePresence("big", "join", "bob"))->online);
  // Events from Redis carry the count after the change.
  const auto event = parsePresenceEvent(
      R"({"type":"presence","room":"big","event":"leave","username":"bob","online":7})");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "leave");
  EXPECT_EQ(event->username, "bob");
  EXPECT_EQ(event->online, 7u);
}

TEST(ParsePresenceEventTest, AcceptsAnyMemberOrderAndExtraMembers) {
  const auto p = parsePresenceEvent(
      R"({"username":"bob","gateway":"g2","event":"leave","room":"dev","type":"presence"})");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->room, "dev");
  EXPECT_EQ(p->event, "leave");
  EXPECT_EQ(p->username, "bob");
}

TEST(ParsePresenceEventTest, RefusesAnythingElse) {
  const std::string message =
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("bob", "hi"));
  for (const std::string& frame : {
           message,
           std::string(),
           std::string("not json"),
           std::string("[]"),
           std::string("null"),
           encodeWelcome("c", "bob", "g"),
           encodeJoined("lobby", "e", 1, std::nullopt, {"bob"}, 1),
           std::string(R"({"type":"presence","room":"lobby","online":-1})"),
           std::string(R"({"type":"presence","room":"lobby","online":1.5})"),
           std::string(R"({"type":"presence","room":"lobby","online":"3"})"),
           std::string(R"({"type":"presence","room":"lobby","online":3,"event":"join"})"),
           std::string(
               R"({"type":"presence","room":"lobby","online":-3,"event":"join","username":"b"})"),
           encodePresence("bad room", "join", "bob"),
           encodePresence("", "join", "bob"),
           encodePresence("lobby", "kick", "bob"),
           encodePresence("lobby", "", "bob"),
           encodePresence("lobby", "join", ""),
           std::string(R"({"type":"presence","room":"lobby","event":"join"})"),
           std::string(R"({"type":"presence","room":"lobby","username":"bob"})"),
           std::string(R"({"type":"presence","event":"join","username":"bob"})"),
           std::string(R"({"room":"lobby","event":"join","username":"bob"})"),
           std::string(R"({"type":"Presence","room":"lobby","event":"join","username":"bob"})"),
           std::string(R"({"type":"presence","room":1,"event":"join","username":"bob"})"),
           std::string(R"({"type":"presence","room":"lobby","event":"join","username":7})"),
           std::string(R"({"type":"presence","room":"lobby","event":"join","username":"\udc00"})"),
           encodePresence("lobby", "join", "bob") + "x",
           encodePresence("lobby", "join", "bob") + std::string(1, '\0') + "x",
           std::string("\xFF") + encodePresence("lobby", "join", "bob"),
       }) {
    EXPECT_FALSE(parsePresenceEvent(frame).has_value()) << testing::PrintToString(frame);
  }
}

}  // namespace
}  // namespace chat::common
