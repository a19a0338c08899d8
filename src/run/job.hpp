// The nightly run and the backfill as an MPI job: rank 0 plans and records,
// every rank works through its chunks, rank 0 gathers the telemetry.
#pragma once

#include "parallel/world.hpp"
#include "run/run_options.hpp"

namespace tasnap::run {

// Runs the job on every rank of `world` and returns the process exit code,
// the same on every rank (see exit_code in core/errors.hpp).
int run_job(parallel::World& world, const RunOptions& options);

}  // namespace tasnap::run
