#include "reliability_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/snapshot_row.hpp"

namespace tasnap::reliability {

namespace {

const std::string kPgBin = "/usr/lib/postgresql/15/bin";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs a server tool as the postgres user when this process is root, because
// PostgreSQL rejects running as root.
std::string as_server_owner(const std::string& command) {
  if (::geteuid() != 0) return command;
  return "runuser -u postgres -- " + command;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

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

std::string tasnap() { return shell_quote(testing::tasnap_binary().string()); }

std::string sample_csv() { return (testing::source_dir() / "data" / "sp500_sample.csv.gz").string(); }

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

RunResult run_snapshot(const RunRequest& request, const TempDir& dir) {
  static int counter = 0;
  const auto telemetry = dir / ("telemetry-" + std::to_string(++counter) + ".json");
  std::string command = "timeout -s KILL " + std::to_string(request.timeout_seconds) + " mpirun -np " +
                        std::to_string(request.ranks) + " " + tasnap() + " run --db " + shell_quote(request.db) +
                        " --ticker-chunk-size " + std::to_string(request.chunk_size) + " --telemetry-json " +
                        shell_quote(telemetry.string());
  if (!request.date.empty()) command += " --date " + request.date;
  if (!request.extra.empty()) command += " " + request.extra;

  adopt_orphans();
  RunResult result;
  result.command = run_command(command);
  reap_ended_ranks();
  if (std::filesystem::exists(telemetry)) result.telemetry = read_json(telemetry);
  return result;
}

BackgroundCommand::BackgroundCommand(const std::string& command, std::filesystem::path log)
    : log_(std::move(log)) {
  adopt_orphans();
  const std::string script = "exec " + command + " >" + shell_quote(log_.string()) + " 2>&1";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string BackgroundCommand::output() const { return read_file(log_); }

bool BackgroundCommand::wait_for_output(const std::string& text, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(text) != std::string::npos) return true;
    int status = 0;
    if (!exit_code_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (exit_code_) return output().find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<int> BackgroundCommand::wait(std::chrono::seconds limit, bool leave_zombies) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!exit_code_ && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (exit_code_ && !leave_zombies) reap_ended_ranks();
  return exit_code_;
}

namespace {

struct ProcessInfo {
  pid_t parent = 0;
  std::string name;
  char state = 0;
};

// Every process from /proc/PID/stat: "pid (comm) state ppid ...". The name
// may contain spaces, so the fields are parsed from the last ')'.
std::map<pid_t, ProcessInfo> process_table() {
  std::map<pid_t, ProcessInfo> processes;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(entry.path() / "stat");
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
    ProcessInfo info;
    info.name = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    rest >> info.state >> info.parent;
    processes[static_cast<pid_t>(std::stoi(pid_text))] = info;
  }
  return processes;
}

}  // namespace

std::vector<pid_t> descendant_processes(pid_t root, const std::string& name) {
  const auto processes = process_table();
  std::vector<pid_t> found;
  for (const auto& [pid, process] : processes) {
    if (process.name != name) continue;
    for (pid_t ancestor = process.parent; ancestor > 1;) {
      if (ancestor == root) {
        found.push_back(pid);
        break;
      }
      const auto parent = processes.find(ancestor);
      if (parent == processes.end()) break;
      ancestor = parent->second.parent;
    }
  }
  return found;
}

void adopt_orphans() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

void reap_ended_ranks() {
  // Adopted ranks are direct children named tasnap. They end within moments of
  // mpirun, so wait up to 5 s for them.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    bool any_left = false;
    for (const auto& [pid, process] : process_table()) {
      if (process.parent != ::getpid() || process.name != "tasnap") continue;
      if (process.state == 'Z') {
        ::waitpid(pid, nullptr, WNOHANG);
      } else {
        any_left = true;
      }
    }
    if (!any_left) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int mpi_rank_of(pid_t pid) {
  const std::string environ = read_file("/proc/" + std::to_string(pid) + "/environ");
  const std::string key = "OMPI_COMM_WORLD_RANK=";
  std::size_t at = 0;
  while (at < environ.size()) {
    const std::size_t end = environ.find('\0', at);
    const std::string entry = environ.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (entry.starts_with(key)) return std::stoi(entry.substr(key.size()));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return -1;
}

std::string started_run_id(const std::string& output) {
  const std::string marker = "run ";
  for (const std::string& line : split_lines(output)) {
    const auto started = line.find(" started: mode=");
    if (started == std::string::npos) continue;
    const auto at = line.rfind(marker, started);
    if (at != std::string::npos) return line.substr(at + marker.size(), started - at - marker.size());
  }
  return "";
}

CommandResult psql(const std::string& conninfo, const std::string& sql) {
  return run_command("psql " + shell_quote(conninfo) + " -X -q -A -t -v ON_ERROR_STOP=1 -c " + shell_quote(sql));
}

std::vector<std::string> query_column(const std::string& uri, const std::string& sql) {
  CommandResult result;
  if (uri.starts_with("sqlite:")) {
    result = run_command("sqlite3 -batch " + shell_quote(uri.substr(7)) + " " + shell_quote(sql));
  } else {
    result = psql(uri, sql);
  }
  EXPECT_EQ(result.exit_code, 0) << sql << "\n" << result.output;
  return split_lines(result.output);
}

std::vector<std::string> snapshot_rows(const std::string& uri, const std::string& table) {
  const bool sqlite = uri.starts_with("sqlite:");
  std::string sql = "SELECT ticker || '|' || as_of_date || '|' || bars_used";
  for (const std::string_view column : kColumnNames) {
    const std::string name = "\"" + std::string(column) + "\"";
    // SQLite's quote() prints a REAL that reads back as the same double (20 digits when 15 are
    // not enough). PostgreSQL's float8send gives the exact bits.
    sql += sqlite ? " || '|' || quote(" + name + ")"
                  : " || '|' || coalesce(float8send(" + name + ")::text, 'NULL')";
  }
  std::string quoted_table = "\"";
  for (const char c : table) quoted_table += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted_table += "\"";
  sql += " FROM " + quoted_table + " ORDER BY 1";
  return query_column(uri, sql);
}

SharedServerDatabase::SharedServerDatabase(const std::string& tag) : server_(testing::test_postgres_uri()) {
  if (server_.empty()) return;
  std::random_device device;
  name_ = "tasnap_rel_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(device() % 100000);
  const auto result = psql(server_, "CREATE DATABASE " + name_);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  uri_ = server_ + " dbname=" + name_;
}

SharedServerDatabase::~SharedServerDatabase() {
  if (name_.empty()) return;
  psql(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

PrivateServer::PrivateServer(ServerOptions options) : options_(std::move(options)) {
  // The socket file sits in this server's own folder, so any port number works.
  // A per-process number keeps the servers of concurrent tests apart in logs.
  port_ = 5400 + static_cast<int>(::getpid() % 500);

  // The postgres user must own the folder and traverse its parents.
  if (::geteuid() == 0) {
    run_command("chown postgres:postgres " + shell_quote(dir_.path().string()));
    for (auto parent = dir_.path().parent_path(); parent != parent.root_path(); parent = parent.parent_path()) {
      const std::string quoted = shell_quote(parent.string());
      run_command("runuser -u postgres -- test -x " + quoted + " || chmod o+x " + quoted);
    }
  }

  std::string auth = "-A trust";
  if (!options_.password.empty()) {
    const auto password_file = dir_ / "pwfile";
    std::ofstream(password_file) << options_.password << "\n";
    run_command("chown postgres " + shell_quote(password_file.string()));
    auth = "-A scram-sha-256 --pwfile=" + shell_quote(password_file.string());
  }
  const auto result = run_command(as_server_owner(kPgBin + "/initdb -D " + shell_quote((dir_ / "data").string()) +
                                                  " -U postgres " + auth + " -E UTF8 --locale=C.UTF-8 --no-sync"));
  if (result.exit_code != 0) throw std::runtime_error("initdb failed:\n" + result.output);
  if (!options_.password.empty()) std::filesystem::remove(dir_ / "pwfile");
  start();
}

PrivateServer::~PrivateServer() {
  try {
    stop();
  } catch (...) {
  }
}

CommandResult PrivateServer::pg_ctl(const std::string& arguments) const {
  return run_command(as_server_owner(kPgBin + "/pg_ctl -D " + shell_quote((dir_ / "data").string()) + " " + arguments));
}

void PrivateServer::start() {
  const std::string settings = "-c listen_addresses='' -c unix_socket_directories='" + dir_.path().string() +
                               "' -p " + std::to_string(port_) +
                               " -c max_connections=" + std::to_string(options_.max_connections) +
                               " -c superuser_reserved_connections=0"
                               " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  const auto result = pg_ctl("-l " + shell_quote((dir_ / "server.log").string()) + " -w -t 60 start -o " +
                             shell_quote(settings));
  if (result.exit_code != 0) throw std::runtime_error("pg_ctl start failed:\n" + result.output);
  running_ = true;
}

void PrivateServer::stop() {
  if (!running_) return;
  pg_ctl("-m immediate -w stop");
  running_ = false;
}

std::string PrivateServer::uri_without_password(const std::string& dbname) const {
  return "host=" + dir_.path().string() + " port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

std::string PrivateServer::uri(const std::string& dbname) const {
  std::string text = uri_without_password(dbname);
  if (!options_.password.empty()) text += " password=" + options_.password;
  return text;
}

void init_and_load(const std::string& uri, const std::string& csv, const std::string& table_flags) {
  auto result = run_command(tasnap() + " init --db " + shell_quote(uri) + " " + table_flags);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  result = run_command(tasnap() + " load --db " + shell_quote(uri) + " " + table_flags + " " + shell_quote(csv));
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

void init_and_generate(const std::string& uri, int tickers, int days) {
  auto result = run_command(tasnap() + " init --db " + shell_quote(uri));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  result = run_command(tasnap() + " gen --db " + shell_quote(uri) + " --tickers " + std::to_string(tickers) +
                       " --days " + std::to_string(days));
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

}  // namespace tasnap::reliability
