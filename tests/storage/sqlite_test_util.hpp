// Helpers of the SQLite, loader and generator tests: direct SQLite access to
// check what the backend stored, and shell quoting for command lines.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/database.hpp"

namespace tasnap::testing {

storage::DbConfig sqlite_config(const std::filesystem::path& file);

// Every row of `table` ordered by its first two columns, one string per row
// with each value's storage class and exact bits, so equal dumps mean equal
// stored bytes.
std::vector<std::string> dump_table(const std::filesystem::path& file, const std::string& table);

std::int64_t count_rows(const std::filesystem::path& file, const std::string& table);

// Runs SQL on the file through its own connection; fails the test on error.
void execute_sql(const std::filesystem::path& file, const std::string& sql);

// Single-quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text);

// The tasnap binary with --db sqlite:FILE, ready to take more arguments.
std::string tasnap_command(const std::string& subcommand, const std::filesystem::path& file);

}  // namespace tasnap::testing
