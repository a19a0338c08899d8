// Derived scaling figures per worker count: median and spread of the wall
// time, speedup and parallel efficiency against one worker, and the serial
// fraction estimated from the measurements (Karp-Flatt metric).
#pragma once

#include <ostream>
#include <vector>

namespace tasnap::scaling {

struct WallSample {
  int workers = 0;
  double wall_seconds = 0;
  int repeat = 0;
};

struct WorkerSummary {
  int workers = 0;
  int runs = 0;
  double median_wall = 0;
  double min_wall = 0;
  double max_wall = 0;
  double speedup = 0;     // median wall at M = 1 / median wall at M; NaN without an M = 1 run
  double efficiency = 0;  // speedup / M
  double karp_flatt = 0;  // (1/S - 1/M) / (1 - 1/M); NaN for M = 1 or without speedup

  // Median over repeats r of T(1, r) / T(M, r). Runs of one repeat are close in
  // time, so this ratio cancels drift in machine load that the ratio of medians
  // keeps. NaN without a pair.
  double paired_speedup = 0;
};

// The median of `values` (mean of the two middle values for an even count);
// NaN when empty.
double median(std::vector<double> values);

// The Karp-Flatt estimate of the serial fraction from a measured speedup on
// `workers` processes; NaN when workers <= 1.
double karp_flatt(double speedup, int workers);

// Amdahl's speedup on `workers` processes for a serial fraction.
double amdahl_speedup(double serial_fraction, int workers);

// One summary per worker count in `worker_order` that has at least one sample.
std::vector<WorkerSummary> summarize(const std::vector<WallSample>& samples, const std::vector<int>& worker_order);

// Prints the summaries as an aligned table with a header line.
void print_summary_table(std::ostream& out, const std::vector<WorkerSummary>& summaries);

}  // namespace tasnap::scaling
