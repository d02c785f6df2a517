#include "sanitizer_report.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

TEST(SanitizerReportTest, RecognisesAsanLsanAndUbsan) {
  EXPECT_TRUE(containsSanitizerReport("==1==ERROR: AddressSanitizer: heap-use-after-free"));
  EXPECT_TRUE(containsSanitizerReport("==1==ERROR: LeakSanitizer: detected memory leaks"));
  EXPECT_TRUE(containsSanitizerReport("x.cpp:3:5: runtime error: signed integer overflow"));
  EXPECT_FALSE(containsSanitizerReport("level=info event=listening port=1\n"));
}

TEST(SanitizerReportTest, ExcerptStartsAFewLinesBeforeTheReport) {
  std::string log = "a\nb\nc\nd\ne\nf\n==1==ERROR: AddressSanitizer: x\nstack\n";
  std::string excerpt = sanitizerReportExcerpt(log);
  EXPECT_EQ(excerpt.rfind("d\ne\nf\n==1==ERROR: AddressSanitizer: x\nstack\n", 0), 0u) << excerpt;
  EXPECT_EQ(sanitizerReportExcerpt("fine"), "");
}

}  // namespace
}  // namespace chat::testing
