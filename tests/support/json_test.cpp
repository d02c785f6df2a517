#include "json.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

TEST(JsonTest, ParsesAChatMessageFrame) {
  std::string frame =
      R"({"type":"message","room":"lobby","epoch":"k3f9a1","id":42,"ts":1764028800123,)"
      R"("username":"alice","text":"hi"})";
  std::string error;
  auto message = parseChatMessage(frame, &error);
  ASSERT_TRUE(message) << error;
  EXPECT_EQ(message->type, "message");
  EXPECT_EQ(message->room, "lobby");
  EXPECT_EQ(message->epoch, "k3f9a1");
  EXPECT_EQ(message->id, 42);
  EXPECT_EQ(message->ts, 1764028800123);
  EXPECT_EQ(message->username, "alice");
  EXPECT_EQ(message->text, "hi");
  EXPECT_EQ(message->raw, frame);
}

TEST(JsonTest, RefusesFramesWithMissingOrMistypedFields) {
  std::string error;
  EXPECT_FALSE(parseChatMessage(R"({"type":"message","id":"1"})", &error));
  EXPECT_NE(error.find("'room'"), std::string::npos) << error;
  EXPECT_FALSE(parseChatMessage("[1]", &error));
  EXPECT_FALSE(parseChatMessage("{", &error));
  EXPECT_FALSE(parseChatMessage("{\"text\":\"\xff\"}", &error)) << "invalid UTF-8";
}

TEST(JsonTest, AccessorsCheckTypes) {
  auto json = JsonObject::parse(R"({"a":"x","n":3,"b":true,"f":1.5})");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->string("a"), "x");
  EXPECT_FALSE(json->string("n"));
  EXPECT_EQ(json->integer("n"), 3);
  EXPECT_FALSE(json->integer("f"));
  EXPECT_EQ(json->boolean("b"), true);
  EXPECT_TRUE(json->has("f"));
  EXPECT_FALSE(json->has("zz"));
  EXPECT_EQ(json->keys().size(), 4u);
}

TEST(JsonTest, BuildsPlainFramesWithEscaping) {
  EXPECT_EQ(plainMessageJson("al\"ice", "a\nb"), R"({"username":"al\"ice","text":"a\nb"})");
}

}  // namespace
}  // namespace chat::testing
