#pragma once
// Free loopback TCP ports for servers the tests start on a port of their own
// choosing (Redis). The port is free when returned; another process may take it
// before it is used, so callers that bind it must be ready to retry.

#include <cstdint>

namespace chat::testing {

// Binds 127.0.0.1:0, reads the port the kernel chose, and releases it.
std::uint16_t findFreePort();

}  // namespace chat::testing
