#pragma once
// One logfmt line per event on stderr: `ts=.. level=.. gateway=.. event=.. k=v`.
// Owned by the loop thread (the gateway has no other); configured once at
// start-up. Message texts are never passed to it at info level or above.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "config/settings.h"

namespace chat::gateway {

using LogField = std::pair<std::string_view, std::string_view>;

class Log {
 public:
  static void configure(common::LogLevel level, std::string gatewayId);
  static bool enabled(common::LogLevel level);

  static void debug(std::string_view event, std::initializer_list<LogField> fields = {});
  static void info(std::string_view event, std::initializer_list<LogField> fields = {});
  static void warn(std::string_view event, std::initializer_list<LogField> fields = {});
  static void error(std::string_view event, std::initializer_list<LogField> fields = {});

  static void write(common::LogLevel level, std::string_view event,
                    std::initializer_list<LogField> fields);
};

}  // namespace chat::gateway
