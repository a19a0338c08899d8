// Secrets and files: a password never shows up in any output, telemetry or run
// table, and the files tasnap writes are never world-writable nor truncated by
// mistake.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "reliability_support.hpp"

namespace tasnap::reliability {
namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A password server with one loaded database, shared by the password tests.
class PasswordSecrecy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PrivateServer({.password = kPassword});
    ASSERT_EQ(psql(server_->uri(), "CREATE DATABASE secrets").exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs init, load, a successful run, a failing run and a compare with one way
  // of giving the password, then checks every output, the telemetry JSON and
  // every text column of the run tables for it.
  void check_no_leak(const std::string& environment, const std::string& uri) {
    std::string outputs;
    const auto run_and_collect = [&](const std::string& command, int expected_exit) {
      const auto result = run_command(environment + " " + command);
      EXPECT_EQ(result.exit_code, expected_exit) << command << "\n" << result.output;
      outputs += result.output;
    };
    const std::string db = " --db " + shell_quote(uri) + " --log-level debug";
    run_and_collect(tasnap() + " init" + db, 0);
    run_and_collect(tasnap() + " load" + db + " " + shell_quote(sample_csv()), 0);

    const auto telemetry = dir_ / "secret.json";
    run_and_collect("mpirun -np 2 " + tasnap() + " run" + db + " --ticker-chunk-size 7 --telemetry-json " +
                        shell_quote(telemetry.string()),
                    0);
    const std::string telemetry_text = file_text(telemetry);
    EXPECT_FALSE(telemetry_text.empty());
    EXPECT_EQ(telemetry_text.find(kPassword), std::string::npos) << telemetry_text;

    // Errors that describe the connection: a missing table, an unknown run.
    run_and_collect("mpirun -np 2 " + tasnap() + " run" + db + " --prices-table no_such_table", exit_code::kDatabase);
    run_and_collect(tasnap() + " compare" + db + " no-such-run other-run", exit_code::kInvalidInput);

    // A chunk that fails for good names its error in the run table.
    ASSERT_EQ(psql(server_->uri("secrets"),
                   "CREATE OR REPLACE FUNCTION reject_ko() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.ticker = 'KO' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$; "
                   "CREATE TRIGGER reject_ko BEFORE INSERT OR UPDATE ON ta_snapshots FOR EACH ROW "
                   "EXECUTE FUNCTION reject_ko()")
                  .exit_code,
              0);
    run_and_collect("mpirun -np 2 " + tasnap() + " run" + db + " --ticker-chunk-size 7", exit_code::kRunFailed);
    ASSERT_EQ(psql(server_->uri("secrets"), "DROP TRIGGER reject_ko ON ta_snapshots").exit_code, 0);

    EXPECT_NE(outputs.find("run "), std::string::npos);
    EXPECT_EQ(outputs.find(kPassword), std::string::npos) << outputs;

    for (const std::string table : {"tasnap_runs", "tasnap_run_ranks", "tasnap_run_tickers"}) {
      const auto rows = query_column(server_->uri("secrets"), "SELECT t::text FROM " + table + " t");
      EXPECT_FALSE(rows.empty()) << table;
      for (const std::string& row : rows) EXPECT_EQ(row.find(kPassword), std::string::npos) << table << ": " << row;
    }
    ASSERT_EQ(psql(server_->uri("secrets"), "DROP TABLE daily_prices, ta_snapshots, tasnap_runs, "
                                            "tasnap_run_ranks, tasnap_run_tickers").exit_code,
              0);
  }

  static constexpr const char* kPassword = "Secret-Pass-5521";
  static PrivateServer* server_;
  TempDir dir_;
};

PrivateServer* PasswordSecrecy::server_ = nullptr;

TEST_F(PasswordSecrecy, PasswordInKeyValueString) {
  check_no_leak("", server_->uri("secrets"));
}

TEST_F(PasswordSecrecy, PasswordInUri) {
  const std::string uri = "postgresql://postgres:" + std::string(kPassword) + "@/secrets?host=" +
                          server_->socket_dir().string() + "&port=" + std::to_string(server_->port());
  check_no_leak("", uri);
}

TEST_F(PasswordSecrecy, PasswordInEnvironment) {
  check_no_leak("PGPASSWORD=" + std::string(kPassword), server_->uri_without_password("secrets"));
}

TEST_F(PasswordSecrecy, WrongPasswordIsNotEchoed) {
  const std::string wrong = "Not-The-Pass-8830";
  for (const std::string& uri :
       {server_->uri_without_password("secrets") + " password=" + wrong,
        "postgresql://postgres:" + wrong + "@/secrets?host=" + server_->socket_dir().string() +
            "&port=" + std::to_string(server_->port())}) {
    for (const std::string command : {"init", "run"}) {
      const auto result = run_command(tasnap() + " " + command + " --db " + shell_quote(uri));
      EXPECT_EQ(result.exit_code, exit_code::kDatabase) << result.output;
      EXPECT_NE(result.output.find("password"), std::string::npos) << result.output;
      EXPECT_EQ(result.output.find(wrong), std::string::npos) << result.output;
    }
  }
  const auto environment = run_command("PGPASSWORD=" + wrong + " " + tasnap() + " run --db " +
                                       shell_quote(server_->uri_without_password("secrets")));
  EXPECT_EQ(environment.exit_code, exit_code::kDatabase) << environment.output;
  EXPECT_EQ(environment.output.find(wrong), std::string::npos) << environment.output;
}

// ---------------------------------------------------------------------------
// Files

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST(WrittenFiles, NotWorldWritableUnderUmask000) {
  TempDir dir;
  const auto database = dir / "open.db";
  const auto telemetry = dir / "open.json";
  const std::string uri = "sqlite:" + database.string();
  auto result = run_command("umask 000 && " + tasnap() + " init --db " + shell_quote(uri) + " && " + tasnap() +
                            " load --db " + shell_quote(uri) + " " + shell_quote(sample_csv()) +
                            " && mpirun -np 2 " + tasnap() + " run --db " + shell_quote(uri) +
                            " --telemetry-json " + shell_quote(telemetry.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(mode_of(entry.path()) & 0002, 0u) << entry.path() << " is world-writable: mode " << std::oct
                                                << mode_of(entry.path());
  }
  EXPECT_EQ(mode_of(telemetry) & 0002, 0u);
  EXPECT_EQ(mode_of(database) & 0002, 0u);
}

TEST(WrittenFiles, TelemetryJsonIsReplacedNotTruncated) {
  TempDir dir;
  const std::string uri = "sqlite:" + (dir / "prices.db").string();
  init_and_load(uri, sample_csv());
  const auto telemetry = dir / "telemetry.json";
  const auto old_link = dir / "old-link.json";
  std::ofstream(telemetry) << "previous run\n";
  std::filesystem::create_hard_link(telemetry, old_link);

  // A run that stops before any work leaves the existing file as it was.
  auto result = run_command("mpirun -np 2 " + tasnap() + " run --db " + shell_quote(uri) +
                            " --date 1990-01-02 --telemetry-json " + shell_quote(telemetry.string()));
  EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
  EXPECT_EQ(file_text(telemetry), "previous run\n");

  // A finished run replaces the file by rename: the old inode keeps its content.
  result = run_command("mpirun -np 2 " + tasnap() + " run --db " + shell_quote(uri) + " --telemetry-json " +
                       shell_quote(telemetry.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(read_json(telemetry)["status"], "succeeded");
  EXPECT_EQ(file_text(old_link), "previous run\n");

  // No temporary file is left beside it.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.starts_with("telemetry.json") && name != "telemetry.json") << name << " was left behind";
  }
}

TEST(WrittenFiles, InitKeepsAnExistingDatabase) {
  TempDir dir;
  const auto path = dir / "kept.db";
  const std::string uri = "sqlite:" + path.string();
  init_and_load(uri, sample_csv());
  ASSERT_EQ(run_snapshot({.db = uri, .ranks = 2, .chunk_size = 5}, dir).command.exit_code, 0);
  const auto prices_before = query_column(uri, "SELECT count(*) FROM daily_prices");
  const auto rows_before = snapshot_rows(uri);
  ASSERT_GE(rows_before.size(), 19u);

  const auto result = run_command(tasnap() + " init --db " + shell_quote(uri));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(query_column(uri, "SELECT count(*) FROM daily_prices"), prices_before);
  EXPECT_TRUE(snapshot_rows(uri) == rows_before);
  EXPECT_EQ(query_column(uri, "SELECT count(*) FROM tasnap_runs"), std::vector<std::string>{"1"});

  // A file that is not a SQLite database is rejected and left untouched.
  const auto notes = dir / "notes.txt";
  const std::string content = "operator notes, not a database\n";
  std::ofstream(notes) << content;
  const auto rejected = run_command(tasnap() + " init --db " + shell_quote("sqlite:" + notes.string()));
  EXPECT_NE(rejected.exit_code, 0) << rejected.output;
  EXPECT_NE(rejected.output.find(notes.string()), std::string::npos) << rejected.output;
  EXPECT_EQ(file_text(notes), content);
}

}  // namespace
}  // namespace tasnap::reliability
