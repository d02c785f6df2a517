#pragma once
// WORKERS=N: N gateway processes share one port through SO_REUSEPORT, each
// with its own loop and Redis connections, under a small supervisor. Why
// processes rather than loops on threads: a worker that crashes (a bug, an
// abort) takes only its own connections down and is replaced, and nothing
// needs a lock, as each loop owns its state whole. What makes them one gateway
// is the WorkerBoard in shared memory: /metrics and /readyz on any worker
// cover all of them.
//
// The supervisor passes SIGTERM/SIGINT on for a graceful drain (and marks the
// board draining at once), stops workers hard a second after SHUTDOWN_TIMEOUT,
// and restarts a crashed worker with backoff (RestartBackoff). Workers die
// with the supervisor (PR_SET_PDEATHSIG), so killing it never leaves orphans.
// The supervisor runs no event loop of its own.

#include <functional>
#include <string>

#include "config/settings.h"
#include "server.h"

namespace chat::gateway {

using WorkerMain = std::function<int(common::Settings, WorkerSeat)>;

// Runs `worker(settings, seat)` in `settings.workers` child processes and
// returns the supervisor's exit status once they have all stopped. With PORT=0
// it first reserves a free port so that every worker shares the same one.
int superviseWorkers(common::Settings settings, const WorkerMain& worker);

}  // namespace chat::gateway
