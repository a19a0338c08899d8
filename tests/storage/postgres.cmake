# PostgreSQL backend tests (tasnap_add_gtest calls, LABELS db).
# postgres_database_test needs TASNAP_TEST_PG (set by tools/test.sh) and fails without it.
tasnap_add_gtest(NAME postgres_copy_test
  SOURCES postgres_copy_test.cpp
  LIBS tasnap_storage
  LABELS unit)

tasnap_add_gtest(NAME postgres_database_test
  SOURCES postgres_database_test.cpp
  LIBS tasnap_storage PostgreSQL::PostgreSQL
  LABELS db)
