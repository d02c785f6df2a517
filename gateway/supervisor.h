#pragma once
// WORKERS=N: N gateway processes share one port through SO_REUSEPORT, each
// with its own loop and Redis connections, under a small supervisor that
// restarts a worker that crashed and passes SIGTERM/SIGINT on for a graceful
// drain. Workers die with the supervisor (PR_SET_PDEATHSIG), so killing it
// never leaves orphans. The supervisor runs no event loop of its own.

#include <functional>
#include <string>

#include "config/settings.h"

namespace chat::gateway {

// Runs `worker(settings)` in `settings.workers` child processes and returns
// the supervisor's exit status once they have all stopped. With PORT=0 it
// first reserves a free port so that every worker shares the same one.
int superviseWorkers(common::Settings settings, const std::function<int(common::Settings)>& worker);

}  // namespace chat::gateway
