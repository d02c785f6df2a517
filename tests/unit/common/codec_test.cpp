// Plain-client frame decoding, message serialization and the stored frame
// layout (common/protocol/codec.h, docs/protocol.md sections 2 and 3).

#include "protocol/codec.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/validation.h"

namespace chat::common {
namespace {

constexpr std::size_t kMax = kDefaultMaxTextCodePoints;
constexpr std::string_view kEmoji = "\xF0\x9F\x98\x80";  // 😀, 4 bytes

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += unit;
  return out;
}

// A plain frame built with our own serializer, so any username or text can be
// sent, control characters included.
std::string plainFrame(std::string_view username, std::string_view text) {
  std::string json = R"({"username":)";
  appendJsonString(json, username);
  json += R"(,"text":)";
  appendJsonString(json, text);
  json += '}';
  return json;
}

// A plain frame with the given raw (unescaped) bytes inside the quotes.
std::string rawFrame(std::string_view username, std::string_view text) {
  return R"({"username":")" + std::string(username) + R"(","text":")" + std::string(text) + "\"}";
}

void expectAccepted(const PlainDecodeResult& r, std::string_view username, std::string_view text) {
  ASSERT_TRUE(r.send.has_value()) << "refused: " << r.reason;
  EXPECT_FALSE(r.refusal.has_value());
  EXPECT_EQ(r.send->username, username);
  EXPECT_EQ(r.send->text, text);
}

void expectRefused(const PlainDecodeResult& r, Refusal expected) {
  EXPECT_FALSE(r.send.has_value());
  ASSERT_TRUE(r.refusal.has_value());
  EXPECT_EQ(*r.refusal, expected) << "got " << refusalLabel(*r.refusal) << " (" << r.reason
                                  << "), expected " << refusalLabel(expected);
  EXPECT_FALSE(r.reason.empty());
}

// Parses a composed frame with RapidJSON, strictly.
rapidjson::Document parseStrict(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  return doc;
}

std::string getString(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// ------------------------------------------------------- decodePlainFrame: ok

TEST(DecodePlainFrameTest, AcceptsTheTutorialFrame) {
  expectAccepted(decodePlainFrame(R"({"username":"alice","text":"hi"})", kMax), "alice", "hi");
}

TEST(DecodePlainFrameTest, AcceptsFieldsInAnyOrderAndWhiteSpace) {
  expectAccepted(decodePlainFrame(" {\n \"text\" : \"hi\" ,\t\"username\":\"bob\" } ", kMax), "bob",
                 "hi");
}

TEST(DecodePlainFrameTest, IgnoresUnknownFields) {
  expectAccepted(
      decodePlainFrame(R"({"type":"message","ref":"c1","username":"a","text":"b","room":"x",)"
                       R"("extra":{"nested":[1,2,{"x":null}]},"n":1.5e10,"t":true})",
                       kMax),
      "a", "b");
}

TEST(DecodePlainFrameTest, DecodesJsonEscapesInText) {
  expectAccepted(
      decodePlainFrame(
          R"({"username":"a","text":"\"q\" \\ \/ line\nnext\ttab \u00e9 \ud83d\ude00"})", kMax),
      "a", "\"q\" \\ / line\nnext\ttab \xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(DecodePlainFrameTest, KeepsTextAsSentIncludingEdgeSpaces) {
  expectAccepted(decodePlainFrame(R"({"username":"a","text":"  hi  "})", kMax), "a", "  hi  ");
}

TEST(DecodePlainFrameTest, TrimsTheUsername) {
  expectAccepted(decodePlainFrame(R"({"username":"  alice\t","text":"hi"})", kMax), "alice", "hi");
}

TEST(DecodePlainFrameTest, EmptyUsernameBecomesAnonymous) {
  EXPECT_EQ(kAnonymous, "anonymous");
  expectAccepted(decodePlainFrame(R"({"username":"","text":"hi"})", kMax), "anonymous", "hi");
  expectAccepted(decodePlainFrame(R"({"username":"   ","text":"hi"})", kMax), "anonymous", "hi");
  expectAccepted(decodePlainFrame(R"({"username":"\n\t","text":"hi"})", kMax), "anonymous", "hi");
}

TEST(DecodePlainFrameTest, UsernameOfThirtyTwoCodePointsButNotThirtyThree) {
  expectAccepted(decodePlainFrame(plainFrame(std::string(32, 'u'), "hi"), kMax),
                 std::string(32, 'u'), "hi");
  expectAccepted(decodePlainFrame(plainFrame(repeat("\xC3\xA9", 32), "hi"), kMax),
                 repeat("\xC3\xA9", 32), "hi");
  expectRefused(decodePlainFrame(plainFrame(std::string(33, 'u'), "hi"), kMax),
                Refusal::kBadUsername);
  expectRefused(decodePlainFrame(plainFrame(repeat(kEmoji, 33), "hi"), kMax),
                Refusal::kBadUsername);
}

TEST(DecodePlainFrameTest, TextOfTwoThousandCodePointsButNotTwoThousandOne) {
  expectAccepted(decodePlainFrame(plainFrame("a", std::string(2000, 'x')), kMax), "a",
                 std::string(2000, 'x'));
  expectRefused(decodePlainFrame(plainFrame("a", std::string(2001, 'x')), kMax),
                Refusal::kTextTooLong);
}

TEST(DecodePlainFrameTest, EmojiAreCountedAsOneCharacterEach) {
  const std::string ok = repeat(kEmoji, 2000);  // 8000 bytes
  expectAccepted(decodePlainFrame(rawFrame("a", ok), kMax), "a", ok);
  expectRefused(decodePlainFrame(rawFrame("a", repeat(kEmoji, 2001)), kMax), Refusal::kTextTooLong);
  // The same emoji sent as escaped surrogate pairs.
  const std::string escaped = rawFrame("a", repeat(R"(\ud83d\ude00)", 2000));
  expectAccepted(decodePlainFrame(escaped, kMax), "a", ok);
}

TEST(DecodePlainFrameTest, HonoursTheConfiguredTextLimit) {
  expectAccepted(decodePlainFrame(plainFrame("a", "12345"), 5), "a", "12345");
  expectRefused(decodePlainFrame(plainFrame("a", "123456"), 5), Refusal::kTextTooLong);
}

// ------------------------------------------------- decodePlainFrame: refused

TEST(DecodePlainFrameTest, WhiteSpaceOnlyTextIsEmptyText) {
  for (std::string_view text : {"", " ", "   ", "\\n", " \\t \\r\\n ", "\\u00a0", "\\u3000"}) {
    expectRefused(decodePlainFrame(rawFrame("alice", text), kMax), Refusal::kEmptyText);
  }
  // Even when the username is empty too.
  expectRefused(decodePlainFrame(rawFrame("", "  "), kMax), Refusal::kEmptyText);
}

TEST(DecodePlainFrameTest, RefusesNulInText) {
  expectRefused(decodePlainFrame(R"({"username":"a","text":"a\u0000b"})", kMax),
                Refusal::kTextHasNul);
  expectRefused(decodePlainFrame(R"({"username":"a","text":"\u0000"})", kMax),
                Refusal::kTextHasNul);
}

TEST(DecodePlainFrameTest, RefusesControlCharactersInUsername) {
  for (std::string_view name : {R"(a\u0000b)", R"(a\u0007b)", R"(a\nb)", R"(a\tb)", R"(a\u001bb)",
                                R"(a\u007fb)", R"(a\u0085b)", R"(a\u009fb)"}) {
    expectRefused(decodePlainFrame(rawFrame(name, "hi"), kMax), Refusal::kBadUsername);
  }
}

TEST(DecodePlainFrameTest, RefusesInvalidUtf8Anywhere) {
  const std::vector<std::string> bad = {
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\xAF",      // overlong '/'
      "\xF0\x80\x80\x80",  // overlong
      "\xED\xA0\x80",      // U+D800 encoded directly
      "\xED\xBF\xBF",      // U+DFFF
      "\xC3",              // truncated
      "\xE2\x82",          // truncated
      "\xF0\x9F\x98",      // truncated
      "\xF4\x90\x80\x80",  // U+110000
      "\xF8\x88\x80\x80\x80",
      "\x80",
      "\xFF",
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(testing::PrintToString(b));
    expectRefused(decodePlainFrame(rawFrame("a", "x" + b + "y"), kMax), Refusal::kInvalidUtf8);
    expectRefused(decodePlainFrame(rawFrame("a" + b, "hi"), kMax), Refusal::kInvalidUtf8);
    // In a field the gateway does not read, or outside any string.
    expectRefused(decodePlainFrame(R"({"username":"a","text":"hi","x":")" + b + "\"}", kMax),
                  Refusal::kInvalidUtf8);
    expectRefused(decodePlainFrame(R"({"username":"a","text":"hi"} )" + b, kMax),
                  Refusal::kInvalidUtf8);
  }
}

TEST(DecodePlainFrameTest, RefusesEscapedLoneSurrogates) {
  // JSON escapes can describe surrogates that UTF-8 cannot carry; whatever the
  // decoder makes of them, the frame must be refused with a 1007 close.
  for (std::string_view text : {R"(\ud800)", R"(x\ud800y)", R"(\udc00)", R"(\udfff)",
                                R"(\ud83d\u0041)", R"(\ude00\ud83d)"}) {
    SCOPED_TRACE(std::string(text));
    for (const auto& frame : {rawFrame("a", text), rawFrame(text, "hi")}) {
      const auto r = decodePlainFrame(frame, kMax);
      EXPECT_FALSE(r.send.has_value());
      ASSERT_TRUE(r.refusal.has_value());
      EXPECT_EQ(plainCloseCode(*r.refusal), CloseCode::kInvalidPayload) << refusalLabel(*r.refusal);
    }
  }
}

TEST(DecodePlainFrameTest, RefusesInvalidJson) {
  for (std::string_view json : {
           "",
           " ",
           "{",
           "}",
           "not json",
           R"({"username":"a","text":"b")",
           R"({"username":"a","text":"b"}})",
           R"({"username":"a","text":"b"} {})",
           R"({"username":"a","text":"b"} x)",
           R"({"username":"a","text":"b",})",
           R"({'username':'a','text':'b'})",
           R"({username:"a",text:"b"})",
           R"({"username":"a","text":"b\x"})",
           R"({"username":"a","text":"b\u12"})",
           "{\"username\":\"a\",\"text\":\"raw\nnewline\"}",
           "{\"username\":\"a\",\"text\":\"raw\ttab\"}",
           R"({"username":"a","text":"unterminated})",
           R"({"username":"a","text":NaN})",
       }) {
    expectRefused(decodePlainFrame(json, kMax), Refusal::kInvalidJson);
  }
}

TEST(DecodePlainFrameTest, RefusesBytesAfterTheObjectEvenAfterANul) {
  // NUL is valid UTF-8 but not JSON: a frame that carries anything after its
  // object, NUL included, is malformed JSON (docs/protocol.md section 2).
  const std::string object = R"({"username":"a","text":"b"})";
  expectRefused(decodePlainFrame(object + std::string(1, '\0'), kMax), Refusal::kInvalidJson);
  expectRefused(decodePlainFrame(object + std::string(1, '\0') + "junk", kMax),
                Refusal::kInvalidJson);
  expectRefused(decodePlainFrame(std::string(1, '\0') + object, kMax), Refusal::kInvalidJson);
}

TEST(DecodePlainFrameTest, RefusesJsonThatIsNotAnObject) {
  for (std::string_view json :
       {"[]", R"(["username","text"])", R"("hi")", "42", "-1.5", "null", "true", "false"}) {
    expectRefused(decodePlainFrame(json, kMax), Refusal::kNotAnObject);
  }
}

TEST(DecodePlainFrameTest, RefusesMissingFields) {
  for (std::string_view json :
       {"{}", R"({"username":"a"})", R"({"text":"b"})", R"({"user":"a","message":"b"})",
        R"({"Username":"a","Text":"b"})"}) {
    expectRefused(decodePlainFrame(json, kMax), Refusal::kMissingField);
  }
}

TEST(DecodePlainFrameTest, RefusesWrongTypes) {
  for (std::string_view json : {
           R"({"username":42,"text":"b"})",
           R"({"username":null,"text":"b"})",
           R"({"username":true,"text":"b"})",
           R"({"username":["a"],"text":"b"})",
           R"({"username":{"n":"a"},"text":"b"})",
           R"({"username":"a","text":1})",
           R"({"username":"a","text":null})",
           R"({"username":"a","text":["b"]})",
           R"({"username":"a","text":{"t":"b"}})",
           R"({"username":"a","text":false})",
       }) {
    expectRefused(decodePlainFrame(json, kMax), Refusal::kWrongType);
  }
}

TEST(DecodePlainFrameTest, DeeplyNestedJsonDoesNotCrash) {
  constexpr std::size_t kDepth = 100000;
  // Unbalanced: invalid JSON.
  expectRefused(decodePlainFrame(std::string(kDepth, '['), kMax), Refusal::kInvalidJson);
  expectRefused(decodePlainFrame(repeat(R"({"a":)", kDepth), kMax), Refusal::kInvalidJson);
  // Balanced: valid JSON, but not an object.
  expectRefused(decodePlainFrame(std::string(kDepth, '[') + std::string(kDepth, ']'), kMax),
                Refusal::kNotAnObject);
  // Balanced objects: an object without the fields.
  expectRefused(decodePlainFrame(repeat(R"({"a":)", kDepth) + "1" + std::string(kDepth, '}'), kMax),
                Refusal::kMissingField);
  // Deep nesting in an unknown field of an otherwise good frame is ignored.
  const std::string nested = R"({"username":"a","text":"b","x":)" + std::string(kDepth, '[') +
                             std::string(kDepth, ']') + "}";
  expectAccepted(decodePlainFrame(nested, kMax), "a", "b");
  // Deeply nested value where a string is expected.
  expectRefused(decodePlainFrame(R"({"username":"a","text":)" + std::string(kDepth, '[') +
                                     std::string(kDepth, ']') + "}",
                                 kMax),
                Refusal::kWrongType);
}

TEST(DecodePlainFrameTest, EveryRefusalOfAPlainFrameClosesWith1007) {
  for (std::string_view json :
       {"x", "[]", "{}", R"({"username":1,"text":"b"})", R"({"username":"a\u0001","text":"b"})",
        R"({"username":"a","text":"\u0000"})"}) {
    const auto r = decodePlainFrame(json, kMax);
    ASSERT_TRUE(r.refusal.has_value()) << json;
    EXPECT_EQ(plainCloseCode(*r.refusal), CloseCode::kInvalidPayload) << json;
  }
}

// ----------------------------------------------------------- appendJsonString

TEST(AppendJsonStringTest, QuotesAndAppends) {
  std::string out = "prefix:";
  appendJsonString(out, "hi");
  EXPECT_EQ(out, R"(prefix:"hi")");
  std::string empty;
  appendJsonString(empty, "");
  EXPECT_EQ(empty, R"("")");
  std::string nullView;
  appendJsonString(nullView, std::string_view{});
  EXPECT_EQ(nullView, R"("")");
}

TEST(AppendJsonStringTest, EscapesQuotesAndBackslashes) {
  std::string out;
  appendJsonString(out, R"(say "hi" \o/)");
  EXPECT_EQ(out, R"("say \"hi\" \\o/")");
}

TEST(AppendJsonStringTest, EscapesControlCharacters) {
  const auto json = [](std::string_view s) {
    std::string out;
    appendJsonString(out, s);
    return out;
  };
  EXPECT_EQ(json("a\nb"), R"("a\nb")");
  EXPECT_EQ(json("a\rb"), R"("a\rb")");
  EXPECT_EQ(json("a\tb"), R"("a\tb")");
  EXPECT_EQ(json("\b\f"), R"("\b\f")");
  EXPECT_EQ(json(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(json("\x01"), R"("\u0001")");
  EXPECT_EQ(json("\x1b[0m"), R"("\u001B[0m")");
  EXPECT_EQ(json("\x1f"), R"("\u001F")");
}

TEST(AppendJsonStringTest, NeverEmitsARawControlCharacter) {
  for (unsigned c = 0; c < 0x20; ++c) {
    const std::string input{'a', static_cast<char>(c), 'b'};
    std::string out;
    appendJsonString(out, input);
    for (char o : out)
      EXPECT_GE(static_cast<unsigned char>(o), 0x20u) << "byte " << c;
    // And it reads back to the same byte.
    const auto doc = parseStrict(out);
    ASSERT_FALSE(doc.HasParseError()) << out;
    ASSERT_TRUE(doc.IsString());
    EXPECT_EQ(getString(doc), input);
  }
}

TEST(AppendJsonStringTest, PassesMultiByteUtf8Through) {
  std::string out;
  appendJsonString(out, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8");
  const auto doc = parseStrict(out);
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(getString(doc), "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8");
}

// ---------------------------------------------------------- encodeMessageBody

TEST(EncodeMessageBodyTest, ProducesTheTailOfAFrame) {
  EXPECT_EQ(encodeMessageBody("alice", "hi"), R"("username":"alice","text":"hi"})");
}

TEST(EncodeMessageBodyTest, EscapesUserInput) {
  EXPECT_EQ(encodeMessageBody("a\"b", "x\\y\nz"), R"("username":"a\"b","text":"x\\y\nz"})");
}

// ------------------------------------------------------ composeStoredFrame

TEST(ComposeStoredFrameTest, MatchesTheProtocolExampleByteForByte) {
  EXPECT_EQ(
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("alice", "hi")),
      R"({"type":"message","room":"lobby","epoch":"k3f9a1","id":42,)"
      R"("ts":1764028800123,"username":"alice","text":"hi"})");
}

struct FrameCase {
  std::string username;
  std::string text;
};

TEST(ComposeStoredFrameTest, ComposedFrameIsAValidJsonObjectWithTheRightFields) {
  const std::vector<FrameCase> cases = {
      {"alice", "hi"},
      {"Bob \"the\" builder", R"(C:\path\to "file")"},
      {"anonymous", "line1\nline2\r\n\ttabbed"},
      {"ctl", std::string("bell\a esc\x1b del\x7f nul\0 end", 24)},
      {"caf\xC3\xA9", "emoji \xF0\x9F\x98\x80 and \xE6\x97\xA5\xE6\x9C\xAC"},
      {"js", "</script><script>alert(1)</script> \xE2\x80\xA8 \xE2\x80\xA9"},
      {"json", R"({"type":"presence","room":"x"})"},
      {std::string(32, 'u'), repeat(kEmoji, 2000)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.text));
    const std::string frame = composeStoredFrame("dev.room-1", "ep0ch", 7, 1764028800999,
                                                 encodeMessageBody(c.username, c.text));
    EXPECT_EQ(frame.find('\n'), std::string::npos) << "raw newline in " << frame;
    EXPECT_EQ(frame.find('\r'), std::string::npos);

    const auto doc = parseStrict(frame);
    ASSERT_FALSE(doc.HasParseError()) << frame;
    ASSERT_TRUE(doc.IsObject());
    EXPECT_EQ(doc.MemberCount(), 7u);
    ASSERT_TRUE(doc.HasMember("type") && doc["type"].IsString());
    EXPECT_EQ(getString(doc["type"]), "message");
    ASSERT_TRUE(doc.HasMember("room") && doc["room"].IsString());
    EXPECT_EQ(getString(doc["room"]), "dev.room-1");
    ASSERT_TRUE(doc.HasMember("epoch") && doc["epoch"].IsString());
    EXPECT_EQ(getString(doc["epoch"]), "ep0ch");
    ASSERT_TRUE(doc.HasMember("id") && doc["id"].IsUint64());
    EXPECT_EQ(doc["id"].GetUint64(), 7u);
    ASSERT_TRUE(doc.HasMember("ts") && doc["ts"].IsInt64());
    EXPECT_EQ(doc["ts"].GetInt64(), 1764028800999);
    ASSERT_TRUE(doc.HasMember("username") && doc["username"].IsString());
    EXPECT_EQ(getString(doc["username"]), c.username);
    ASSERT_TRUE(doc.HasMember("text") && doc["text"].IsString());
    EXPECT_EQ(getString(doc["text"]), c.text);
  }
}

TEST(ComposeStoredFrameTest, WhatAPlainClientSendsIsWhatOthersReceive) {
  const std::string sent =
      plainFrame("  carol ", "quote \" backslash \\ newline \n emoji \xF0\x9F\x98\x80");
  const auto decoded = decodePlainFrame(sent, kMax);
  ASSERT_TRUE(decoded.send.has_value()) << decoded.reason;
  const std::string frame = composeStoredFrame(
      "lobby", "e1", 1, 0, encodeMessageBody(decoded.send->username, decoded.send->text));
  const auto doc = parseStrict(frame);
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(getString(doc["username"]), "carol");
  EXPECT_EQ(getString(doc["text"]), "quote \" backslash \\ newline \n emoji \xF0\x9F\x98\x80");
}

// ------------------------------------------------------- parseMessageHeader

TEST(ParseMessageHeaderTest, RoundTripsAComposedFrame) {
  const std::string frame =
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("alice", "hi"));
  const auto h = parseMessageHeader(frame);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->room, "lobby");
  EXPECT_EQ(h->epoch, "k3f9a1");
  EXPECT_EQ(h->id, 42u);
  EXPECT_EQ(h->ts, 1764028800123);
}

TEST(ParseMessageHeaderTest, ViewsPointIntoTheFrame) {
  const std::string frame = composeStoredFrame("dev", "abc", 1, 2, encodeMessageBody("a", "b"));
  const auto h = parseMessageHeader(frame);
  ASSERT_TRUE(h.has_value());
  const auto inside = [&](std::string_view v) {
    return v.data() >= frame.data() && v.data() + v.size() <= frame.data() + frame.size();
  };
  EXPECT_TRUE(inside(h->room));
  EXPECT_TRUE(inside(h->epoch));
}

TEST(ParseMessageHeaderTest, RoundTripsExtremeValues) {
  const auto max64 = std::numeric_limits<std::uint64_t>::max();
  const auto maxTs = std::numeric_limits<std::int64_t>::max();
  const std::string room(64, 'R');
  const std::string frame =
      composeStoredFrame(room, "", max64, maxTs, encodeMessageBody("u", "} \" , \"id\":1"));
  const auto h = parseMessageHeader(frame);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->room, room);
  EXPECT_EQ(h->epoch, "");
  EXPECT_EQ(h->id, max64);
  EXPECT_EQ(h->ts, maxTs);

  const auto zero =
      parseMessageHeader(composeStoredFrame("a", "e", 0, 0, encodeMessageBody("u", "t")));
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->id, 0u);
  EXPECT_EQ(zero->ts, 0);
}

TEST(ParseMessageHeaderTest, RoundTripsForManyIds) {
  for (std::uint64_t id : {1ull, 9ull, 10ull, 99ull, 100ull, 123456789ull, 1ull << 53}) {
    const std::string frame = composeStoredFrame("r", "e", id, static_cast<std::int64_t>(id) * 3,
                                                 encodeMessageBody("u", "t"));
    const auto h = parseMessageHeader(frame);
    ASSERT_TRUE(h.has_value()) << frame;
    EXPECT_EQ(h->id, id);
    EXPECT_EQ(h->ts, static_cast<std::int64_t>(id) * 3);
  }
}

TEST(ParseMessageHeaderTest, RejectsPresenceAndOtherServerFrames) {
  for (std::string_view frame : {
           R"({"type":"presence","room":"lobby","event":"join","username":"bob"})",
           R"({"type":"presence","room":"lobby","event":"leave","username":"bob"})",
           R"({"type":"ack","ref":"c1","id":43,"ts":1764028800999})",
           R"({"type":"joined","room":"lobby","epoch":"k3f9a1","last_id":42})",
           R"({"type":"welcome","conn":"1","username":"alice","gateway":"g"})",
           R"({"type":"error","ref":"c1","code":"invalid","message":"no"})",
       }) {
    EXPECT_FALSE(parseMessageHeader(frame).has_value()) << frame;
  }
}

// A frame in the store script's layout with the header fields spelled out
// verbatim, so that malformed ones can be written.
std::string headerFrame(std::string_view room, std::string_view id, std::string_view ts) {
  return R"({"type":"message","room":")" + std::string(room) + R"(","epoch":"e","id":)" +
         std::string(id) + R"(,"ts":)" + std::string(ts) + R"(,"username":"a","text":"b"})";
}

TEST(ParseMessageHeaderTest, HeaderFrameHelperMatchesTheLayout) {
  EXPECT_EQ(headerFrame("lobby", "1", "2"),
            composeStoredFrame("lobby", "e", 1, 2, encodeMessageBody("a", "b")));
  EXPECT_TRUE(parseMessageHeader(headerFrame("lobby", "1", "2")).has_value());
}

TEST(ParseMessageHeaderTest, RejectsJunkAndTruncatedFrames) {
  const std::string good =
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("alice", "hi"));
  for (std::string_view frame : {"", "{", "}", "{}", "junk", "null", "[]"}) {
    EXPECT_FALSE(parseMessageHeader(frame).has_value()) << frame;
  }
  EXPECT_FALSE(parseMessageHeader(good.substr(0, good.size() - 1)).has_value());
  EXPECT_FALSE(parseMessageHeader(good + " ").has_value());
  EXPECT_FALSE(parseMessageHeader(good + "\n").has_value());
  // Every proper prefix of a good frame is refused.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parseMessageHeader(std::string_view(good).substr(0, n)).has_value()) << n;
  }
}

TEST(ParseMessageHeaderTest, RejectsOtherLayouts) {
  // Same fields in another order, or with spaces: not built by the store script.
  const std::string good = headerFrame("lobby", "42", "1");
  std::string reordered = good;
  reordered.replace(0, std::string_view(R"({"type":"message","room":"lobby")").size(),
                    R"({"room":"lobby","type":"message")");
  EXPECT_FALSE(parseMessageHeader(reordered).has_value()) << reordered;
  const auto colon = std::string_view(R"({"type":)").size();
  const std::string spaced = good.substr(0, colon) + " " + good.substr(colon);
  EXPECT_FALSE(parseMessageHeader(spaced).has_value()) << spaced;
  std::string upper = good;
  upper.replace(9, 7, "MESSAGE");
  EXPECT_FALSE(parseMessageHeader(upper).has_value()) << upper;
}

TEST(ParseMessageHeaderTest, RejectsBadNumbers) {
  for (const auto& [id, ts] : std::vector<std::pair<std::string, std::string>>{
           {"-1", "1"},
           {R"("42")", "1"},
           {"", "1"},
           {"1.5", "1"},
           {"0x10", "1"},
           {"18446744073709551616", "1"},  // 2^64
           {"1", "x"},
           {"1", ""},
           {"1", "9223372036854775808"},  // 2^63
           {"1", "1.5"},
           {"1", R"("1")"},
       }) {
    const auto frame = headerFrame("lobby", id, ts);
    EXPECT_FALSE(parseMessageHeader(frame).has_value()) << frame;
  }
}

TEST(ParseMessageHeaderTest, RejectsBadRoomNames) {
  for (std::string_view room : {"", "bad room", "a/b", "caf\xC3\xA9"}) {
    const auto frame = headerFrame(room, "1", "1");
    EXPECT_FALSE(parseMessageHeader(frame).has_value()) << frame;
  }
  EXPECT_FALSE(parseMessageHeader(headerFrame(std::string(65, 'r'), "1", "1")).has_value());
  EXPECT_TRUE(parseMessageHeader(headerFrame(std::string(64, 'r'), "1", "1")).has_value());
}

TEST(TombstoneTest, KeepsTheHeaderAndDropsUsernameAndText) {
  const std::string original =
      composeStoredFrame("lobby", "k3f9a1", 42, 1764028800123, encodeMessageBody("al", "hi"));
  const auto header = parseMessageHeader(original);
  ASSERT_TRUE(header);
  EXPECT_FALSE(header->deleted);
  const std::string tombstone = composeTombstone(*header);
  EXPECT_EQ(tombstone,
            R"({"type":"message","room":"lobby","epoch":"k3f9a1","id":42,"ts":1764028800123,)"
            R"("deleted":true})");
  const auto read = parseMessageHeader(tombstone);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->deleted);
  EXPECT_EQ(read->id, 42u);
  EXPECT_EQ(read->ts, 1764028800123);
}

TEST(DeleteEventTest, RoundTripsAndRefusesAnythingElse) {
  const std::string event = composeDeleteEvent("lobby", "k3f9a1", 42);
  EXPECT_EQ(event, R"({"type":"delete","room":"lobby","epoch":"k3f9a1","id":42})");
  const auto parsed = parseDeleteEvent(event);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->room, "lobby");
  EXPECT_EQ(parsed->epoch, "k3f9a1");
  EXPECT_EQ(parsed->id, 42u);
  for (const std::string_view bad :
       {R"({"type":"delete","room":"lobby","epoch":"k3f9a1","id":42,"x":1})",
        R"({"type":"delete","room":"lob by","epoch":"k3f9a1","id":42})",
        R"({"type":"delete","room":"lobby","epoch":"k3f9a1","id":-1})",
        R"({"type":"delete","room":"lobby","epoch":"k3f9a1"})", R"({"type":"deleted"})"})
    EXPECT_FALSE(parseDeleteEvent(bad)) << bad;
  EXPECT_FALSE(parseMessageHeader(event));
}

}  // namespace
}  // namespace chat::common
