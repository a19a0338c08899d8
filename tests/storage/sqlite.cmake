# SQLite backend, loader and generator tests. They use real SQLite files in
# temporary folders and drive the tasnap binary for the command-line cases.
tasnap_add_gtest(NAME tasnap_sqlite_test
  SOURCES
    sqlite_test_util.cpp
    sqlite_uri_test.cpp
    sqlite_database_test.cpp
    sqlite_run_log_test.cpp
    sqlite_concurrency_test.cpp
  LIBS tasnap_storage SQLite::SQLite3
  LABELS unit)

tasnap_add_gtest(NAME tasnap_loader_test
  SOURCES
    sqlite_test_util.cpp
    loader_test.cpp
  LIBS tasnap_storage SQLite::SQLite3 ZLIB::ZLIB
  LABELS unit)

tasnap_add_gtest(NAME tasnap_generator_test
  SOURCES
    sqlite_test_util.cpp
    generator_test.cpp
  LIBS tasnap_storage SQLite::SQLite3
  LABELS unit)

# Waits out the 60 s busy timeout once.
tasnap_add_gtest(NAME tasnap_sqlite_busy_test
  SOURCES
    sqlite_test_util.cpp
    sqlite_busy_test.cpp
  LIBS tasnap_storage SQLite::SQLite3
  LABELS slow
  TIMEOUT 300)
