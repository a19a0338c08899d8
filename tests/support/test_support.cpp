#include "support/test_support.hpp"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace tasnap::testing {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

std::filesystem::path source_dir() {
  const std::string dir = env_or_empty("TASNAP_SOURCE_DIR");
  if (dir.empty()) throw std::runtime_error("TASNAP_SOURCE_DIR is not set; run the tests through ctest.");
  return dir;
}

std::filesystem::path tasnap_binary() {
  const std::string binary = env_or_empty("TASNAP_BINARY");
  if (binary.empty()) throw std::runtime_error("TASNAP_BINARY is not set; run the tests through ctest.");
  return binary;
}

std::filesystem::path shared_dir() {
  const auto dir = source_dir().parent_path() / "shared";
  return std::filesystem::exists(dir / "golden") ? dir : std::filesystem::path{};
}

TempDir::TempDir() {
  std::random_device device;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("tasnap-test-" + std::to_string(device()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("Could not create a temporary folder under " + base.string());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool within_tolerance(double got, double want) {
  return std::fabs(got - want) <= 1e-9 * std::max(std::fabs(got), std::fabs(want)) + 1e-12;
}

std::string test_postgres_uri() { return env_or_empty("TASNAP_TEST_PG"); }

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buffer;
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace tasnap::testing
