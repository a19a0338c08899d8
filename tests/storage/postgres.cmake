# PostgreSQL backend tests (tasnap_add_gtest calls, LABELS db).
