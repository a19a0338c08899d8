// Options shared by every subcommand, and the registration functions of the
// subcommand groups.
#pragma once

#include <string>

#include "storage/database.hpp"

namespace CLI {
class App;
}

namespace tasnap::cli {

struct GlobalOptions {
  storage::DbConfig db;
  std::string log_level = "info";

  // The process arguments, for MPI initialisation and for relaunching under mpirun.
  int argc = 0;
  char** argv = nullptr;
};

// Sends log lines to stderr as "<time> [rank R] <level>: <message>". The rank
// tag appears when rank >= 0. Ranks above 0 log warnings and errors only,
// unless the level is debug or trace.
void setup_logging(const std::string& level, int rank = -1);

// Adds --db, --prices-table, --snapshots-table, --runs-table, --run-ranks-table,
// --run-tickers-table and --log-level to `command`, bound to `options`.
void add_db_options(CLI::App& command, GlobalOptions& options);

// The database URI in force: --db, else $TASNAP_DB, else "sqlite:tasnap.db".
std::string resolve_db_uri(const std::string& flag_value);

// init, load, gen (cli/data_commands.cpp). Each callback sets `exit_status`.
void register_data_commands(CLI::App& app, GlobalOptions& options, int& exit_status);

// run, backfill, compare (cli/run_commands.cpp).
void register_run_commands(CLI::App& app, GlobalOptions& options, int& exit_status);

}  // namespace tasnap::cli
