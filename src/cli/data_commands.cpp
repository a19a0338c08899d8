#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace tasnap::cli {

// NOTE: placeholder until the storage layer lands; registers no command.
void register_data_commands(CLI::App&, GlobalOptions&, int&) {}

}  // namespace tasnap::cli
