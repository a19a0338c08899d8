#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace tasnap::cli {

// NOTE: placeholder until the run lands; registers no command.
void register_run_commands(CLI::App&, GlobalOptions&, int&) {}

}  // namespace tasnap::cli
