// A write lock held past the busy timeout raises TransientDatabaseError, so the
// run retries the chunk instead of failing the run. Takes about one minute
// because the timeout is 60 s.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

TEST(SqliteBusy, LockPastTimeoutIsTransient) {
  testing::TempDir dir;
  const auto file = dir / "locked.db";
  auto database = open_database(testing::sqlite_config(file));
  database->init_schema();

  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  try {
    database->begin_chunk();
    ADD_FAILURE() << "begin_chunk succeeded while another connection held the write lock";
  } catch (const TransientDatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }

  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  // The same connection works once the lock is released.
  database->begin_chunk();
  database->commit_chunk();
}

}  // namespace
}  // namespace tasnap::storage
