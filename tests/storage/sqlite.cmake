# SQLite backend, loader and generator tests (tasnap_add_gtest calls).
