// Order-independent digests of snapshot rows, used to compare runs without
// reading every row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/snapshot_row.hpp"

namespace tasnap {

// A 64-bit hash of the row's key and the exact bits of every value (all NULLs
// hash alike). Equal rows give equal hashes on every host and build.
std::uint64_t hash_row(const SnapshotRow& row);

// Sum modulo 2^64 of row hashes plus the row count: insensitive to the order in
// which rows were written, so any rank count and chunk size give the same digest
// for the same rows. A sum rather than an xor, so a row written twice changes it.
struct Digest {
  std::uint64_t sum = 0;
  std::uint64_t rows = 0;

  void add(const SnapshotRow& row) { add_hash(hash_row(row)); }
  void add_hash(std::uint64_t hash) {
    sum += hash;
    ++rows;
  }
  void merge(const Digest& other) {
    sum += other.sum;
    rows += other.rows;
  }

  // "<16 hex digits of the sum>:<row count>".
  std::string to_string() const;

  // Reads the form written by to_string(); nullopt for anything else.
  static std::optional<Digest> parse(std::string_view text);

  bool operator==(const Digest&) const = default;
};

}  // namespace tasnap
