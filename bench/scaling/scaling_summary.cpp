#include "scaling/scaling_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tasnap::scaling {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The median over repeats of T(1, r) / T(workers, r), using the first sample of
// each (worker count, repeat).
double paired_speedup(const std::vector<WallSample>& samples, int workers) {
  std::vector<double> ratios;
  for (const WallSample& sample : samples) {
    if (sample.workers != workers) continue;
    const auto serial = std::find_if(samples.begin(), samples.end(), [&](const WallSample& candidate) {
      return candidate.workers == 1 && candidate.repeat == sample.repeat;
    });
    if (serial != samples.end()) ratios.push_back(serial->wall_seconds / sample.wall_seconds);
  }
  return median(ratios);
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  if (values.size() % 2 == 1) return values[middle];
  return (values[middle - 1] + values[middle]) / 2.0;
}

double karp_flatt(double speedup, int workers) {
  if (workers <= 1) return kNaN;
  const double m = workers;
  return (1.0 / speedup - 1.0 / m) / (1.0 - 1.0 / m);
}

double amdahl_speedup(double serial_fraction, int workers) {
  return 1.0 / (serial_fraction + (1.0 - serial_fraction) / workers);
}

std::vector<WorkerSummary> summarize(const std::vector<WallSample>& samples, const std::vector<int>& worker_order) {
  std::vector<WorkerSummary> summaries;
  for (int workers : worker_order) {
    std::vector<double> walls;
    for (const WallSample& sample : samples) {
      if (sample.workers == workers) walls.push_back(sample.wall_seconds);
    }
    if (walls.empty()) continue;

    WorkerSummary summary;
    summary.workers = workers;
    summary.runs = static_cast<int>(walls.size());
    summary.median_wall = median(walls);
    summary.min_wall = *std::min_element(walls.begin(), walls.end());
    summary.max_wall = *std::max_element(walls.begin(), walls.end());
    summaries.push_back(summary);
  }

  // Speedups are ratios of medians, so one slow outlier run does not skew them.
  const auto one_worker = std::find_if(summaries.begin(), summaries.end(),
                                       [](const WorkerSummary& summary) { return summary.workers == 1; });
  for (WorkerSummary& summary : summaries) {
    summary.speedup = one_worker == summaries.end() ? kNaN : one_worker->median_wall / summary.median_wall;
    summary.efficiency = summary.speedup / summary.workers;
    summary.karp_flatt = karp_flatt(summary.speedup, summary.workers);
    summary.paired_speedup = paired_speedup(samples, summary.workers);
  }
  return summaries;
}

void print_summary_table(std::ostream& out, const std::vector<WorkerSummary>& summaries) {
  char line[160];
  std::snprintf(line, sizeof line, "%7s %4s %13s %8s %8s %8s %10s %10s %14s\n", "workers", "runs",
                "median_wall_s", "min_s", "max_s", "speedup", "efficiency", "karp_flatt", "paired_speedup");
  out << line;
  for (const WorkerSummary& s : summaries) {
    std::snprintf(line, sizeof line, "%7d %4d %13.3f %8.3f %8.3f %8.3f %10.3f %10.3f %14.3f\n", s.workers, s.runs,
                  s.median_wall, s.min_wall, s.max_wall, s.speedup, s.efficiency, s.karp_flatt, s.paired_speedup);
    out << line;
  }
  out.flush();
}

}  // namespace tasnap::scaling
