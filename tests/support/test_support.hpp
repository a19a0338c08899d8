// Helpers shared by the test suites: paths, temporary folders, the spec's
// tolerance and the connection string of the private PostgreSQL server.
#pragma once

#include <filesystem>
#include <string>

namespace tasnap::testing {

// Root of the source tree (TASNAP_SOURCE_DIR, set by CTest).
std::filesystem::path source_dir();

// Path of the tasnap executable (TASNAP_BINARY, set by CTest).
std::filesystem::path tasnap_binary();

// The shared golden folder beside the repository, or empty when absent.
std::filesystem::path shared_dir();

// A fresh folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The snapshot contract's tolerance: |got - want| <= 1e-9 * max(|got|, |want|) + 1e-12.
bool within_tolerance(double got, double want);

// libpq connection string of the private test server (TASNAP_TEST_PG, set by
// tools/test.sh), or empty when no server was started.
std::string test_postgres_uri();

// Runs a shell command, returning its exit code and capturing stdout+stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::string& command);

}  // namespace tasnap::testing
