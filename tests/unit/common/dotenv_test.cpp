// `.env` parsing (common/config/dotenv.h, docs/protocol.md section 7).

#include "config/dotenv.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

namespace chat::common {
namespace {

DotEnvEntries parseOk(std::string_view content) {
  auto r = parseDotEnv(content);
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << "refused: " << *err;
    return {};
  }
  return std::get<DotEnvEntries>(r);
}

std::string parseError(std::string_view content) {
  auto r = parseDotEnv(content);
  if (std::holds_alternative<DotEnvEntries>(r)) {
    ADD_FAILURE() << "accepted: " << testing::PrintToString(std::string(content));
    return {};
  }
  return std::get<std::string>(r);
}

// The value of the single entry in `content`.
std::string valueOf(std::string_view content) {
  const auto entries = parseOk(content);
  if (entries.size() != 1) {
    ADD_FAILURE() << "expected one entry in " << testing::PrintToString(std::string(content));
    return {};
  }
  return entries.front().second;
}

using Entry = std::pair<std::string, std::string>;

// --------------------------------------------------------------- good files

TEST(DotEnvTest, EmptyFileHasNoEntries) {
  EXPECT_TRUE(parseOk("").empty());
  EXPECT_TRUE(parseOk("\n\n\n").empty());
  EXPECT_TRUE(parseOk("# only a comment\n").empty());
  EXPECT_TRUE(parseOk("   \n\t\n").empty());
}

TEST(DotEnvTest, KeyValueLinesInFileOrder) {
  EXPECT_EQ(parseOk("PORT=8080\nREDIS_URL=redis://h:6379/1\nLOG_LEVEL=debug\n"),
            (DotEnvEntries{Entry{"PORT", "8080"}, Entry{"REDIS_URL", "redis://h:6379/1"},
                           Entry{"LOG_LEVEL", "debug"}}));
}

TEST(DotEnvTest, LastLineWithoutNewline) {
  EXPECT_EQ(parseOk("A=1\nB=2"), (DotEnvEntries{Entry{"A", "1"}, Entry{"B", "2"}}));
}

TEST(DotEnvTest, WindowsLineEndings) {
  EXPECT_EQ(parseOk("A=1\r\nB=two words\r\nC=\"q\"\r\n"),
            (DotEnvEntries{Entry{"A", "1"}, Entry{"B", "two words"}, Entry{"C", "q"}}));
}

TEST(DotEnvTest, TrimsAroundKeysAndValues) {
  EXPECT_EQ(parseOk("  PORT  =  8080  \n\tHOST\t=\tx\t"),
            (DotEnvEntries{Entry{"PORT", "8080"}, Entry{"HOST", "x"}}));
}

TEST(DotEnvTest, CommentsAndBlankLines) {
  EXPECT_EQ(parseOk("# comment\n\n   # indented comment\nA=1\n\n#B=2\n"),
            (DotEnvEntries{Entry{"A", "1"}}));
}

TEST(DotEnvTest, TrailingCommentAfterUnquotedValue) {
  EXPECT_EQ(valueOf("A=value # a comment"), "value");
  EXPECT_EQ(valueOf("A=value\t # a comment"), "value");
  // A '#' that is not preceded by a space belongs to the value.
  EXPECT_EQ(valueOf("A=abc#def"), "abc#def");
  EXPECT_EQ(valueOf("URL=https://example.com/#anchor"), "https://example.com/#anchor");
}

TEST(DotEnvTest, ExportPrefix) {
  EXPECT_EQ(parseOk("export PORT=9000\nexport   A=b"),
            (DotEnvEntries{Entry{"PORT", "9000"}, Entry{"A", "b"}}));
}

TEST(DotEnvTest, KeyNamedLikeExport) {
  EXPECT_EQ(parseOk("export=1\nexporter=2"),
            (DotEnvEntries{Entry{"export", "1"}, Entry{"exporter", "2"}}));
}

TEST(DotEnvTest, EmptyValues) {
  EXPECT_EQ(valueOf("API_KEY="), "");
  EXPECT_EQ(valueOf("API_KEY=   "), "");
  EXPECT_EQ(valueOf("API_KEY=\"\""), "");
  EXPECT_EQ(valueOf("API_KEY=''"), "");
}

TEST(DotEnvTest, ValueMayContainEqualsSigns) {
  EXPECT_EQ(valueOf("AUTH_SECRET=abc=def=="), "abc=def==");
  EXPECT_EQ(valueOf("REDIS_URL=redis://u:p=q@h:6379"), "redis://u:p=q@h:6379");
}

TEST(DotEnvTest, KeysMayHaveLowerCaseDigitsAndUnderscores) {
  EXPECT_EQ(parseOk("_A=1\nb2_C=2\n"), (DotEnvEntries{Entry{"_A", "1"}, Entry{"b2_C", "2"}}));
}

TEST(DotEnvTest, DuplicateKeysAreAllReturnedInOrder) {
  EXPECT_EQ(parseOk("A=1\nA=2"), (DotEnvEntries{Entry{"A", "1"}, Entry{"A", "2"}}));
}

TEST(DotEnvTest, DoubleQuotedValues) {
  EXPECT_EQ(valueOf(R"(A="hello world")"), "hello world");
  EXPECT_EQ(valueOf(R"(A="  padded  ")"), "  padded  ");
  EXPECT_EQ(valueOf(R"(A="#not a comment")"), "#not a comment");
  EXPECT_EQ(valueOf(R"(A="it's")"), "it's");
  EXPECT_EQ(valueOf(R"(A="value" # comment)"), "value");
  EXPECT_EQ(valueOf(R"(A="value"#comment)"), "value");
}

TEST(DotEnvTest, DoubleQuotedEscapes) {
  EXPECT_EQ(valueOf(R"(A="line1\nline2")"), "line1\nline2");
  EXPECT_EQ(valueOf(R"(A="tab\there")"), "tab\there");
  EXPECT_EQ(valueOf(R"(A="say \"hi\"")"), "say \"hi\"");
  EXPECT_EQ(valueOf(R"(A="back\\slash")"), "back\\slash");
  EXPECT_EQ(valueOf(R"(A="ends with backslash\\")"), "ends with backslash\\");
}

TEST(DotEnvTest, SingleQuotedValuesAreLiteral) {
  EXPECT_EQ(valueOf(R"(A='hello world')"), "hello world");
  EXPECT_EQ(valueOf(R"(A='no\nescape')"), "no\\nescape");
  EXPECT_EQ(valueOf(R"(A='say "hi"')"), "say \"hi\"");
  EXPECT_EQ(valueOf(R"(A='$HOME # not a comment')"), "$HOME # not a comment");
  EXPECT_EQ(valueOf(R"(A='x' # comment)"), "x");
}

TEST(DotEnvTest, Utf8Values) {
  EXPECT_EQ(valueOf("GATEWAY_ID=caf\xC3\xA9-1"), "caf\xC3\xA9-1");
}

// --------------------------------------------------------------- bad files

TEST(DotEnvTest, LineWithoutEqualsSignIsAnError) {
  const auto err = parseError("JUST_A_WORD");
  EXPECT_EQ(err.rfind("line 1:", 0), 0u) << err;
}

TEST(DotEnvTest, ErrorNamesTheLineCountingBlankAndCommentLines) {
  const auto err = parseError("# header\n\nA=1\nthis is not an assignment\nB=2\n");
  EXPECT_EQ(err.rfind("line 4:", 0), 0u) << err;
  const auto crlf = parseError("A=1\r\nB=2\r\nbad\r\n");
  EXPECT_EQ(crlf.rfind("line 3:", 0), 0u) << crlf;
}

TEST(DotEnvTest, BadVariableNames) {
  for (std::string_view line :
       {"=value", "1ABC=x", "A-B=x", "A B=x", "A.B=x", "$A=x", "A\xC3\xA9=x", " =x", "export =x"}) {
    const auto err = parseError(line);
    EXPECT_EQ(err.rfind("line 1:", 0), 0u) << line << ": " << err;
  }
  const auto err = parseError("A=1\nB=2\n9LIVES=x\n");
  EXPECT_EQ(err.rfind("line 3:", 0), 0u) << err;
}

TEST(DotEnvTest, UnterminatedQuotes) {
  for (std::string_view line :
       {R"(A="abc)", R"(A='abc)", R"(A=")", R"(A=')", R"(A="abc\")", R"(A="abc')", R"(A='abc")"}) {
    const auto err = parseError(line);
    EXPECT_EQ(err.rfind("line 1:", 0), 0u) << line << ": " << err;
  }
  const auto err = parseError("A=1\nB=\"multi\nline\"\n");
  EXPECT_EQ(err.rfind("line 2:", 0), 0u) << err;
}

TEST(DotEnvTest, JunkAfterAClosingQuote) {
  for (std::string_view line : {R"(A="abc" def)", R"(A='abc'def)", R"(A="a""b")"}) {
    const auto err = parseError(line);
    EXPECT_EQ(err.rfind("line 1:", 0), 0u) << line << ": " << err;
  }
}

}  // namespace
}  // namespace chat::common
