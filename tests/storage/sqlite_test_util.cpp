#include "sqlite_test_util.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <bit>
#include <cstdio>

#include "storage/sql_text.hpp"
#include "support/test_support.hpp"

namespace tasnap::testing {

namespace {

// A connection closed by the destructor.
struct Connection {
  explicit Connection(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &handle) != SQLITE_OK) {
      ADD_FAILURE() << "Failed to open " << file << ": " << sqlite3_errmsg(handle);
    }
  }
  ~Connection() { sqlite3_close(handle); }
  sqlite3* handle = nullptr;
};

std::string describe_value(sqlite3_stmt* statement, int column) {
  char text[64];
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_INTEGER:
      return "i" + std::to_string(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT:
      std::snprintf(text, sizeof text, "f%016llx",
                    static_cast<unsigned long long>(
                        std::bit_cast<std::uint64_t>(sqlite3_column_double(statement, column))));
      return text;
    default:
      return "t" + std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, column)));
  }
}

}  // namespace

storage::DbConfig sqlite_config(const std::filesystem::path& file) {
  storage::DbConfig config;
  config.uri = "sqlite:" + file.string();
  return config;
}

std::vector<std::string> dump_table(const std::filesystem::path& file, const std::string& table) {
  Connection connection(file);
  const std::string sql = "SELECT * FROM " + storage::quote_identifier(table) + " ORDER BY 1, 2";
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(connection.handle, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "Failed to prepare '" << sql << "': " << sqlite3_errmsg(connection.handle);
    return {};
  }

  std::vector<std::string> rows;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int column = 0; column < sqlite3_column_count(statement); ++column) {
      row += describe_value(statement, column) + "|";
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  return rows;
}

std::int64_t count_rows(const std::filesystem::path& file, const std::string& table) {
  Connection connection(file);
  const std::string sql = "SELECT count(*) FROM " + storage::quote_identifier(table);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(connection.handle, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "Failed to prepare '" << sql << "': " << sqlite3_errmsg(connection.handle);
    return -1;
  }
  std::int64_t count = -1;
  if (sqlite3_step(statement) == SQLITE_ROW) count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return count;
}

void execute_sql(const std::filesystem::path& file, const std::string& sql) {
  Connection connection(file);
  char* error = nullptr;
  if (sqlite3_exec(connection.handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    ADD_FAILURE() << "Failed to run '" << sql << "': " << (error ? error : "unknown error");
  }
  sqlite3_free(error);
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string tasnap_command(const std::string& subcommand, const std::filesystem::path& file) {
  return shell_quote(tasnap_binary().string()) + " " + subcommand + " --db " +
         shell_quote("sqlite:" + file.string());
}

}  // namespace tasnap::testing
