// Hand-written telemetry JSON documents in tasnap's schema_version 1, for tests
// of the scaling harness that run without tasnap.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace tasnap::testing {

// A succeeded run with `workers` ranks whose phase times are distinct per rank
// (rank r: connect 0.1 + r, read 1 + r, compute 2 + r, write 3 + r seconds).
inline nlohmann::json telemetry_document(int workers, const std::string& digest) {
  nlohmann::json document = {
      {"schema_version", 1},
      {"run_id", "20261204T210000Z-" + std::to_string(workers) + "abcde"},
      {"mode", "run"},
      {"status", "succeeded"},
      {"as_of_date", "2021-04-21"},
      {"from_date", nullptr},
      {"history_start", nullptr},
      {"workers", workers},
      {"chunk_size", 10},
      {"tickers", 40},
      {"rows", 38},
      {"digest", digest},
      {"params_hash", "p"},
      {"version", "0.1.0"},
      {"started_at", "2026-12-04T21:00:00.000Z"},
      {"finished_at", "2026-12-04T21:00:01.000Z"},
      {"wall_seconds", 1.5},
      {"host", "testhost"},
      {"database", "postgresql://tasnap:***@localhost/prices"},
      {"error", ""},
      {"ranks", nlohmann::json::array()},
  };
  for (int r = 0; r < workers; ++r) {
    document["ranks"].push_back({
        {"rank", r},
        {"host", "testhost"},
        {"pid", 1000 + r},
        {"chunks_assigned", 2},
        {"chunks_done", 2},
        {"tickers", 20},
        {"bars_read", 5000 + r},
        {"invalid_bars", 0},
        {"rows_upserted", 19 + r},
        {"tickers_skipped", 1},
        {"skipped_no_bars", 0},
        {"skipped_no_valid_bars", 0},
        {"skipped_no_bar_on_date", 1},
        {"retries", 0},
        {"connect_seconds", 0.1 + r},
        {"read_seconds", 1.0 + r},
        {"compute_seconds", 2.0 + r},
        {"write_seconds", 3.0 + r},
        {"total_seconds", 6.1 + 4 * r},
        {"peak_rss_kib", 20000 + r},
        {"digest", "0000000000000001:19"},
        {"error", ""},
        {"failed_chunks", nlohmann::json::array()},
    });
  }
  return document;
}

}  // namespace tasnap::testing
