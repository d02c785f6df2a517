#include "gateway_process.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

TEST(GatewayProcessTest, ParsesTheListeningLine) {
  EXPECT_EQ(parseListeningPort("ts=1 level=info event=start\n"
                               "ts=2 level=info event=listening port=40123 addr=0.0.0.0\n"),
            40123);
  EXPECT_EQ(parseListeningPort("level=info event=listening port=8080\n"), 8080);
}

TEST(GatewayProcessTest, WaitsForAWholeLine) {
  EXPECT_FALSE(parseListeningPort("level=info event=listening port=401"));
  EXPECT_FALSE(parseListeningPort("level=info event=started port=1\n"));
  EXPECT_FALSE(parseListeningPort("level=info event=listening port=0\n"));
  EXPECT_FALSE(parseListeningPort("level=info event=listening port=x\n"));
}

}  // namespace
}  // namespace chat::testing
