#pragma once
// Recognises the reports AddressSanitizer, LeakSanitizer and
// UndefinedBehaviorSanitizer print on stderr. A child that printed one has a
// bug even when it exited 0, so fixtures fail the test (Redis' own test harness
// does the same with its children's logs). Pure, any thread.

#include <string>
#include <string_view>

namespace chat::testing {

bool containsSanitizerReport(std::string_view log);

// The report and some lines before it, for a failure message; empty when there
// is none.
std::string sanitizerReportExcerpt(std::string_view log);

}  // namespace chat::testing
