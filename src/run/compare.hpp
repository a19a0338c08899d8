// tasnap compare: two runs' outputs, ticker by ticker and rank by rank.
#pragma once

#include <ostream>
#include <string>

#include "storage/database.hpp"

namespace tasnap::run {

// Compares run_a (in database_a) with run_b (in database_b, which may be the
// same object). Prints what differs to `out`: the digests, the per-rank digests
// when both runs used the same rank count and chunk size, and the first
// differing ticker with its first differing column and both values. Returns
// true when the runs wrote identical rows. Throws InputError for an unknown run.
bool compare_runs(storage::Database& database_a, const std::string& run_a, storage::Database& database_b,
                  const std::string& run_b, std::ostream& out);

}  // namespace tasnap::run
