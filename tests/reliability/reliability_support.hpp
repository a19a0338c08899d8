// Helpers of the reliability tests: shell quoting, tasnap runs under mpirun in
// the foreground or the background, fresh databases on the shared test server,
// and private PostgreSQL servers that a test may stop, restart or start with
// password authentication.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace tasnap::reliability {

using testing::CommandResult;
using testing::run_command;
using testing::TempDir;

// `text` as one single-quoted shell word, safe for any content.
std::string shell_quote(const std::string& text);

// The tasnap executable as a shell word.
std::string tasnap();

// The shipped real sample (20 S&P 500 tickers up to 2021-04-21).
std::string sample_csv();
inline const std::string kSampleDate = "2021-04-21";

nlohmann::json read_json(const std::filesystem::path& path);

// `tasnap run` under mpirun with its telemetry JSON (null when none was written).
struct RunResult {
  CommandResult command;
  nlohmann::json telemetry;
};

struct RunRequest {
  std::string db;
  int ranks = 2;
  int chunk_size = 250;
  std::string date;   // empty: the latest trade date
  std::string extra;  // further flags, already quoted
  int timeout_seconds = 120;
};

// Runs `tasnap run` under mpirun, killed after `timeout_seconds`.
RunResult run_snapshot(const RunRequest& request, const TempDir& dir);

// A command started in the background through /bin/sh with its output in a file.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::string& command, std::filesystem::path log);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  pid_t pid() const { return pid_; }
  std::string output() const;

  // Waits until the output contains `text`; false when the command ended or time ran out.
  bool wait_for_output(const std::string& text, std::chrono::seconds limit);

  // Waits for the exit and returns the exit code (128 + signal), or nullopt after
  // `limit`. Unless `leave_zombies` is set, it then reaps ranks this process adopted.
  std::optional<int> wait(std::chrono::seconds limit, bool leave_zombies = false);

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
  std::optional<int> exit_code_;
};

// Processes below `root` in the process tree whose command name is `name`.
std::vector<pid_t> descendant_processes(pid_t root, const std::string& name);

// Makes this process the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER),
// so ranks that outlive mpirun become its children instead of init's.
void adopt_orphans();

// Reaps the adopted tasnap ranks that have ended. mpirun does not wait for the
// ranks it stops after a failure, and a container's init may never reap them.
void reap_ended_ranks();

// The MPI rank of a process started by mpirun (OMPI_COMM_WORLD_RANK), or -1.
int mpi_rank_of(pid_t pid);

// The run id in tasnap's "run ID started" log line, or empty.
std::string started_run_id(const std::string& output);

// Tickers that `sql` returns, one per row, through psql or sqlite3.
std::vector<std::string> query_column(const std::string& uri, const std::string& sql);

// Every stored snapshot row as "ticker|date|bars_used|value|...", sorted, with
// every value's exact bits, so two databases can be compared row by row.
std::vector<std::string> snapshot_rows(const std::string& uri, const std::string& table = "ta_snapshots");

// Runs psql on a libpq connection string with ON_ERROR_STOP; output is unaligned, tuples only.
CommandResult psql(const std::string& conninfo, const std::string& sql);

// A fresh database on the shared test server (TASNAP_TEST_PG), dropped by the destructor.
class SharedServerDatabase {
 public:
  explicit SharedServerDatabase(const std::string& tag);
  ~SharedServerDatabase();
  SharedServerDatabase(const SharedServerDatabase&) = delete;
  SharedServerDatabase& operator=(const SharedServerDatabase&) = delete;

  const std::string& uri() const { return uri_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_;
  std::string name_;
  std::string uri_;
};

// How a private server is set up.
struct ServerOptions {
  std::string password;      // empty: trust authentication; else scram-sha-256 for user postgres
  int max_connections = 100;
};

// A private PostgreSQL 15 server in its own folder with a Unix socket only,
// started like tools/pg_server.sh does and stopped by the destructor.
class PrivateServer {
 public:
  explicit PrivateServer(ServerOptions options = {});
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  void start();
  void stop();

  // The key=value connection string of `dbname`, with the password when one is set.
  std::string uri(const std::string& dbname = "postgres") const;

  // The connection string without any password.
  std::string uri_without_password(const std::string& dbname = "postgres") const;

  const std::filesystem::path& socket_dir() const { return dir_.path(); }
  int port() const { return port_; }

 private:
  CommandResult pg_ctl(const std::string& arguments) const;

  ServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
};

// Creates the tables (`tasnap init`) and loads `csv`; EXPECTs success.
void init_and_load(const std::string& uri, const std::string& csv, const std::string& table_flags = "");

// Creates the tables and generates `tickers` x `days` synthetic bars; EXPECTs success.
void init_and_generate(const std::string& uri, int tickers, int days);

}  // namespace tasnap::reliability
