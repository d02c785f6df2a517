#pragma once
// What the kernel says about a process (Linux /proc), for tests that bound a
// gateway's resources: resident memory and open file descriptors. Reads only;
// nullopt when the process is gone or /proc cannot be read. Any thread.

#include <sys/types.h>

#include <cstddef>
#include <optional>

namespace chat::testing {

// VmRSS of /proc/PID/status, in KiB.
std::optional<std::size_t> residentKib(pid_t pid);

// Entries of /proc/PID/fd.
std::optional<std::size_t> openFdCount(pid_t pid);

}  // namespace chat::testing
