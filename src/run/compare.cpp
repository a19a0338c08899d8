#include "run/compare.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <map>

#include "core/digest.hpp"
#include "core/errors.hpp"

namespace tasnap::run {

namespace {

storage::RunRecord find_run_or_throw(storage::Database& database, const std::string& run_id) {
  auto run = database.find_run(run_id);
  if (!run) {
    throw InputError("Run '" + run_id + "' is not in the run log of " + database.describe() +
                     ". List runs with: SELECT run_id FROM tasnap_runs ORDER BY started_at.");
  }
  return *run;
}

std::string format_value(double value) {
  if (is_null(value)) return "NULL";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// Prints the first column that differs between two stored rows; false when none does.
bool print_first_column_difference(const SnapshotRow& a, const SnapshotRow& b, std::ostream& out) {
  if (a.bars_used != b.bars_used) {
    out << "  first differing column on " << format_date(a.as_of_date) << ": bars_used " << a.bars_used << " vs "
        << b.bars_used << "\n";
    return true;
  }
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    const double x = a.values[i];
    const double y = b.values[i];
    const bool same = (is_null(x) && is_null(y)) || (!is_null(x) && !is_null(y) && std::bit_cast<std::uint64_t>(x) ==
                                                                                     std::bit_cast<std::uint64_t>(y));
    if (!same) {
      out << "  first differing column on " << format_date(a.as_of_date) << ": " << kColumnNames[i] << " "
          << format_value(x) << " vs " << format_value(y) << "\n";
      return true;
    }
  }
  return false;
}

// Shows the column values behind a differing ticker when both runs' rows are still stored.
void explain_ticker(storage::Database& database_a, const storage::RunRecord& a, storage::Database& database_b,
                    const storage::RunRecord& b, const std::string& ticker, std::ostream& out) {
  const Date from_a = a.from_date.value_or(a.as_of_date);
  const Date from_b = b.from_date.value_or(b.as_of_date);
  const auto rows_a = database_a.read_snapshots(ticker, std::min(from_a, from_b), std::max(a.as_of_date, b.as_of_date));
  const auto rows_b = database_b.read_snapshots(ticker, std::min(from_a, from_b), std::max(a.as_of_date, b.as_of_date));

  std::map<std::int32_t, const SnapshotRow*> by_date_b;
  for (const auto& [row, writer] : rows_b) {
    if (writer == b.run_id) by_date_b[row.as_of_date.days] = &row;
  }
  for (const auto& [row, writer] : rows_a) {
    if (writer != a.run_id) continue;
    const auto match = by_date_b.find(row.as_of_date.days);
    if (match == by_date_b.end()) continue;
    if (print_first_column_difference(row, *match->second, out)) return;
  }
  if (a.as_of_date != b.as_of_date || a.from_date != b.from_date) {
    out << "  the runs cover different dates, so no stored row of one matches a row of the other\n";
    return;
  }
  out << "  the rows of one run were overwritten by a later run, so column values cannot be shown; compare the "
         "runs in separate databases (--db-b) to see them\n";
}

}  // namespace

bool compare_runs(storage::Database& database_a, const std::string& run_a, storage::Database& database_b,
                  const std::string& run_b, std::ostream& out) {
  const storage::RunRecord a = find_run_or_throw(database_a, run_a);
  const storage::RunRecord b = find_run_or_throw(database_b, run_b);

  out << "A " << a.run_id << ": " << a.status << ", " << a.mode << " " << format_date(a.as_of_date) << ", "
      << a.workers << " ranks, chunk size " << a.chunk_size << ", " << a.rows << " rows, digest " << a.digest << "\n";
  out << "B " << b.run_id << ": " << b.status << ", " << b.mode << " " << format_date(b.as_of_date) << ", "
      << b.workers << " ranks, chunk size " << b.chunk_size << ", " << b.rows << " rows, digest " << b.digest << "\n";
  if (a.params_hash != b.params_hash) {
    out << "parameters differ (params_hash " << a.params_hash << " vs " << b.params_hash
        << "): the runs cover different dates, tickers or history starts\n";
  }

  bool identical = a.digest == b.digest && a.status == "succeeded" && b.status == "succeeded";

  // Rank by rank, when both runs split the work the same way.
  if (a.workers == b.workers && a.chunk_size == b.chunk_size) {
    const auto ranks_a = database_a.run_ranks(a.run_id);
    const auto ranks_b = database_b.run_ranks(b.run_id);
    for (std::size_t i = 0; i < std::min(ranks_a.size(), ranks_b.size()); ++i) {
      if (ranks_a[i].digest != ranks_b[i].digest) {
        out << "rank " << ranks_a[i].rank << " differs: digest " << ranks_a[i].digest << " vs " << ranks_b[i].digest
            << "\n";
        identical = false;
      }
    }
  } else {
    out << "rank by rank: not compared, because the runs used different rank counts or chunk sizes\n";
  }

  // Ticker by ticker: the first ticker whose rows differ.
  std::map<std::string, std::string> digests_b;
  for (const TickerDigest& d : database_b.run_tickers(b.run_id)) digests_b[d.ticker] = d.digest;
  std::map<std::string, std::string> digests_a;
  for (const TickerDigest& d : database_a.run_tickers(a.run_id)) digests_a[d.ticker] = d.digest;

  std::int64_t differing = 0;
  std::string first;
  for (const auto& [ticker, digest] : digests_a) {
    const auto match = digests_b.find(ticker);
    if (match != digests_b.end() && match->second == digest) continue;
    if (first.empty()) {
      first = ticker;
      out << "first differing ticker: " << ticker << " (" << digest << " vs "
          << (match == digests_b.end() ? std::string("absent") : match->second) << ")\n";
    }
    ++differing;
  }
  for (const auto& [ticker, digest] : digests_b) {
    if (digests_a.count(ticker)) continue;
    if (first.empty()) {
      first = ticker;
      out << "first differing ticker: " << ticker << " (absent vs " << digest << ")\n";
    }
    ++differing;
  }
  if (!first.empty()) {
    identical = false;
    explain_ticker(database_a, a, database_b, b, first, out);
    out << differing << " tickers differ\n";
  }

  if (a.status != "succeeded" || b.status != "succeeded") {
    out << "not identical: a run that did not succeed cannot match (A " << a.status << ", B " << b.status << ")\n";
  }
  out << (identical ? "identical\n" : "different\n");
  return identical;
}

}  // namespace tasnap::run
