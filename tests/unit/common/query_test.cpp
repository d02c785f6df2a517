// Query strings and static paths from untrusted requests (common/util/query.h).

#include "util/query.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace chat::common {
namespace {

// ------------------------------------------------------------- queryParam

TEST(QueryParamTest, FindsEachParameter) {
  const std::string_view q = "room=dev&since=42&epoch=k3f9a1&username=alice";
  EXPECT_EQ(queryParam(q, "room"), "dev");
  EXPECT_EQ(queryParam(q, "since"), "42");
  EXPECT_EQ(queryParam(q, "epoch"), "k3f9a1");
  EXPECT_EQ(queryParam(q, "username"), "alice");
}

TEST(QueryParamTest, MissingParameterIsNullopt) {
  EXPECT_EQ(queryParam("room=dev", "since"), std::nullopt);
  EXPECT_EQ(queryParam("", "room"), std::nullopt);
  EXPECT_EQ(queryParam("&&&", "room"), std::nullopt);
}

TEST(QueryParamTest, MatchesWholeNamesOnly) {
  EXPECT_EQ(queryParam("rooms=x", "room"), std::nullopt);
  EXPECT_EQ(queryParam("xroom=x", "room"), std::nullopt);
  EXPECT_EQ(queryParam("roo=x", "room"), std::nullopt);
  EXPECT_EQ(queryParam("rooms=x&room=y", "room"), "y");
  EXPECT_EQ(queryParam("Room=x", "room"), std::nullopt);
}

TEST(QueryParamTest, DecodesPercentEscapes) {
  EXPECT_EQ(queryParam("username=alice%20smith", "username"), "alice smith");
  EXPECT_EQ(queryParam("t=%41%62%63", "t"), "Abc");
  EXPECT_EQ(queryParam("t=%2b%2B", "t"), "++");
  EXPECT_EQ(queryParam("t=100%25", "t"), "100%");
  EXPECT_EQ(queryParam("t=a%26b%3Dc", "t"), "a&b=c");
  EXPECT_EQ(queryParam("username=caf%C3%A9", "username"), "caf\xC3\xA9");
  EXPECT_EQ(queryParam("u=%F0%9F%98%80", "u"), "\xF0\x9F\x98\x80");
}

TEST(QueryParamTest, PlusIsASpaceButEscapedPlusIsAPlus) {
  EXPECT_EQ(queryParam("username=alice+smith", "username"), "alice smith");
  EXPECT_EQ(queryParam("t=a+%2B+b", "t"), "a + b");
  EXPECT_EQ(queryParam("t=+", "t"), " ");
}

TEST(QueryParamTest, FirstOccurrenceWins) {
  EXPECT_EQ(queryParam("room=a&room=b", "room"), "a");
  EXPECT_EQ(queryParam("since=1&room=a&since=2", "since"), "1");
}

TEST(QueryParamTest, EmptyAndBareValues) {
  EXPECT_EQ(queryParam("room=", "room"), "");
  EXPECT_EQ(queryParam("room", "room"), "");
  EXPECT_EQ(queryParam("a=1&room&b=2", "room"), "");
  EXPECT_EQ(queryParam("room=&since=3", "since"), "3");
}

TEST(QueryParamTest, ValueKeepsLaterEqualsSigns) {
  EXPECT_EQ(queryParam("token=abc.def==&room=x", "token"), "abc.def==");
  EXPECT_EQ(queryParam("a=b=c", "a"), "b=c");
}

TEST(QueryParamTest, SkipsEmptyPairs) {
  EXPECT_EQ(queryParam("&&room=x&", "room"), "x");
  EXPECT_EQ(queryParam("a=1&&room=x", "room"), "x");
}

TEST(QueryParamTest, BadEscapesAreNullopt) {
  for (std::string_view q :
       {"t=%", "t=%2", "t=abc%", "t=abc%4", "t=%zz", "t=%G0", "t=%0g", "t=% 1", "t=%%", "t=a%-1"}) {
    EXPECT_EQ(queryParam(q, "t"), std::nullopt) << q;
  }
}

TEST(QueryParamTest, BadEscapeInAnotherParameterDoesNotMatter) {
  EXPECT_EQ(queryParam("x=%zz&room=dev", "room"), "dev");
}

TEST(QueryParamTest, DecodedBytesAreReturnedVerbatim) {
  // Validation of the decoded value (UTF-8, room rules) is the caller's job.
  EXPECT_EQ(queryParam("u=%00", "u"), std::string(1, '\0'));
  EXPECT_EQ(queryParam("u=%FF", "u"), std::string(1, '\xFF'));
}

// ------------------------------------------------------------- mimeTypeFor

TEST(MimeTypeTest, KnownExtensions) {
  EXPECT_EQ(mimeTypeFor("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/mod.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/data.json"), "application/json");
  EXPECT_EQ(mimeTypeFor("/site.webmanifest"), "application/manifest+json");
  EXPECT_EQ(mimeTypeFor("/logo.svg"), "image/svg+xml");
  EXPECT_EQ(mimeTypeFor("/logo.png"), "image/png");
  EXPECT_EQ(mimeTypeFor("/photo.jpg"), "image/jpeg");
  EXPECT_EQ(mimeTypeFor("/favicon.ico"), "image/x-icon");
  EXPECT_EQ(mimeTypeFor("/robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/font.woff2"), "font/woff2");
  EXPECT_EQ(mimeTypeFor("/app.js.map"), "application/json");
  EXPECT_EQ(mimeTypeFor("/module.wasm"), "application/wasm");
}

TEST(MimeTypeTest, UsesTheLastExtensionOfTheFileName) {
  EXPECT_EQ(mimeTypeFor("/assets/v1.2/app.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("/index.html.bak"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("index.html"), "text/html; charset=utf-8");
}

TEST(MimeTypeTest, UnknownOrMissingExtensionIsOctetStream) {
  EXPECT_EQ(mimeTypeFor("/"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor(""), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/README"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/archive.tar.gz"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/file."), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/x.htmlx"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/x.htm"), "application/octet-stream");
}

TEST(MimeTypeTest, DotInADirectoryNameIsNotAnExtension) {
  EXPECT_EQ(mimeTypeFor("/v1.html/file"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("/assets.css/"), "application/octet-stream");
}

// ------------------------------------------------------------- isSafeStaticPath

TEST(SafeStaticPathTest, AcceptsOrdinaryPaths) {
  for (std::string_view p : {"/", "/index.html", "/assets/app.js", "/a/b/c.css", "/.well-known/x",
                             "/file.name.with.dots.txt", "/a-b_c~d"}) {
    EXPECT_TRUE(isSafeStaticPath(p)) << p;
  }
}

TEST(SafeStaticPathTest, RefusesRelativeAndEmptyPaths) {
  EXPECT_FALSE(isSafeStaticPath(""));
  EXPECT_FALSE(isSafeStaticPath("index.html"));
  EXPECT_FALSE(isSafeStaticPath("./index.html"));
  EXPECT_FALSE(isSafeStaticPath("../etc/passwd"));
}

TEST(SafeStaticPathTest, RefusesTraversal) {
  for (std::string_view p : {"/..", "/../etc/passwd", "/a/../../etc/passwd", "/a/..", "/..a",
                             "/a/../b", "/assets/..%2f"}) {
    EXPECT_FALSE(isSafeStaticPath(p)) << p;
  }
}

TEST(SafeStaticPathTest, RefusesDoubleSlashesBackslashesAndNul) {
  EXPECT_FALSE(isSafeStaticPath("//etc/passwd"));
  EXPECT_FALSE(isSafeStaticPath("/a//b"));
  EXPECT_FALSE(isSafeStaticPath("/a\\b"));
  EXPECT_FALSE(isSafeStaticPath("/..\\..\\windows"));
  EXPECT_FALSE(isSafeStaticPath("\\a"));
  EXPECT_FALSE(isSafeStaticPath(std::string_view("/index.html\0.png", 16)));
  EXPECT_FALSE(isSafeStaticPath(std::string_view("/\0", 2)));
}

}  // namespace
TEST(CookieValueTest, FindsTheNamedCookie) {
  EXPECT_EQ(cookieValue("a=1; chat_token=abc.def; b=2", "chat_token"), "abc.def");
  EXPECT_EQ(cookieValue("chat_token=\"quoted\"", "chat_token"), "quoted");
  EXPECT_EQ(cookieValue("x_chat_token=1;chat_token=2", "chat_token"), "2");
  EXPECT_EQ(cookieValue("chat_token=", "chat_token"), "");
  EXPECT_EQ(cookieValue("a=1; b=2", "chat_token"), std::nullopt);
  EXPECT_EQ(cookieValue("", "chat_token"), std::nullopt);
  EXPECT_EQ(cookieValue("chat_token", "chat_token"), std::nullopt);
}

}  // namespace chat::common
