#pragma once
// What the kernel says about a process (Linux /proc), for tests that bound a
// gateway's resources: resident memory and open file descriptors. Reads only;
// nullopt when the process is gone or /proc cannot be read. Any thread.

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <vector>

namespace chat::testing {

// VmRSS of /proc/PID/status, in KiB.
std::optional<std::size_t> residentKib(pid_t pid);

// Entries of /proc/PID/fd.
std::optional<std::size_t> openFdCount(pid_t pid);

// The process and its children (a gateway's supervisor and its workers).
std::vector<pid_t> processTree(pid_t pid);

// residentKib and openFdCount added up over processTree(pid): what a gateway
// uses, whatever its WORKERS.
std::optional<std::size_t> treeResidentKib(pid_t pid);
std::optional<std::size_t> treeOpenFdCount(pid_t pid);

}  // namespace chat::testing
