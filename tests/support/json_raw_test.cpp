#include "json_raw.h"

#include <gtest/gtest.h>

#include "v1_client.h"

namespace chat::testing {
namespace {

using Strings = std::vector<std::string>;

TEST(JsonRawTest, ArrayElementsKeepTheirExactBytes) {
  auto elements = rawArrayElements(R"( [ {"a":"x,]}\"y"} , 12,"s" ,[1,[2]] ,null ]
)");
  ASSERT_TRUE(elements);
  EXPECT_EQ(*elements, (Strings{R"({"a":"x,]}\"y"})", "12", R"("s")", "[1,[2]]", "null"}));
  EXPECT_EQ(rawArrayElements("[]"), Strings{});
  EXPECT_EQ(rawArrayElements("[ ]\n"), Strings{});
}

TEST(JsonRawTest, ArrayElementsRefuseWhatIsNotOneArray) {
  EXPECT_FALSE(rawArrayElements(R"({"a":1})"));
  EXPECT_FALSE(rawArrayElements("[1,"));
  EXPECT_FALSE(rawArrayElements("[1] [2]"));
  EXPECT_FALSE(rawArrayElements(""));
}

TEST(JsonRawTest, MemberValueIsFoundByKeyOutsideStrings) {
  const std::string text =
      R"({"type":"history","note":"\"messages\":[0]","messages":[{"id":1},{"id":2}],"z":true})";
  EXPECT_EQ(rawMemberValue(text, "messages"), R"([{"id":1},{"id":2}])");
  EXPECT_EQ(rawMemberValue(text, "z"), "true");
  EXPECT_EQ(rawMemberValue(text, "type"), R"("history")");
  EXPECT_FALSE(rawMemberValue(text, "absent"));
  EXPECT_FALSE(rawMemberValue("{}", "a"));
  EXPECT_FALSE(rawMemberValue("[1]", "a"));
}

TEST(JsonRawTest, V1FrameReadsArraysAndMessages) {
  auto joined = V1Frame::parse(
      R"({"type":"joined","room":"r","epoch":"e","last_id":0,"presence":[{"username":"al"}]})");
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->type(), "joined");
  EXPECT_EQ(joined->integer("last_id"), 0);
  EXPECT_EQ(joined->array("presence"), Strings{R"({"username":"al"})"});
  EXPECT_FALSE(joined->array("room"));
  EXPECT_FALSE(joined->message());
  EXPECT_FALSE(V1Frame::parse(R"({"id":1})"));
  EXPECT_FALSE(V1Frame::parse(""));
  EXPECT_EQ(v1Target("lobby", "al", 4, "e1"), "/websocket?room=lobby&username=al&since=4&epoch=e1");
  EXPECT_EQ(v1Target("lobby", ""), "/websocket?room=lobby");
}

}  // namespace
}  // namespace chat::testing
