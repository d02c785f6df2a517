#pragma once
// One worker process of the load generator: its share of the scenario's
// clients on one epoll loop, driven by line commands from the coordinator on
// `commandFd` and answering with lines on `reportFd`:
//   coordinator -> worker: sync | go <t0-ns> | allsent | drop | report | quit
//   worker -> coordinator: connected <ok> <fail> <first error> | synced | sent |
//     resumed | done | r <key> <number> | h <name> <histogram> | s <key> <text> | end
// Merge rule of the numbers: keys starting max_ take the maximum, min_ the
// minimum, everything else is summed over workers.

#include "lg_options.h"

namespace chat::load {

int runWorker(const Options& options, int index, int commandFd, int reportFd);

}  // namespace chat::load
