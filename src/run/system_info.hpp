// Facts about this process and host for telemetry and the launcher.
#pragma once

#include <cstdint>
#include <string>

namespace tasnap::run {

std::string host_name();

std::int64_t process_id();

// Peak resident set size of this process in KiB (getrusage).
std::int64_t peak_rss_kib();

// Physical cores of this host (distinct core ids in /proc/cpuinfo), at least 1.
int physical_cores();

// True when this process was started by mpirun (Open MPI or a PMI launcher).
bool started_by_mpirun();

// True when a process with this pid runs on this host under the name "tasnap".
bool tasnap_process_alive(std::int64_t pid);

// Seconds since an arbitrary fixed point, for measuring phases.
double monotonic_seconds();

// Current UTC time as ISO 8601, e.g. "2026-12-04T21:12:08.123Z".
std::string utc_timestamp();

}  // namespace tasnap::run
