// tasnap: nightly technical-analysis snapshots of an equity universe.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "cli/common.hpp"
#include "core/errors.hpp"

int main(int argc, char** argv) {
  using namespace tasnap;

  CLI::App app{"tasnap: nightly technical-analysis snapshots of an equity universe"};
  app.set_version_flag("--version", std::string(TASNAP_VERSION) + " (" + TASNAP_GIT_COMMIT + ")");
  app.require_subcommand(1);

  cli::GlobalOptions options;
  options.argc = argc;
  options.argv = argv;
  cli::setup_logging(options.log_level);
  int exit_status = exit_code::kSuccess;
  cli::register_data_commands(app, options, exit_status);
  cli::register_run_commands(app, options, exit_status);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports an unknown command word only as a missing command, so name it.
    if (app.get_subcommands().empty() && !app.remaining().empty() && !app.remaining().front().starts_with("-")) {
      std::string commands;
      for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
        commands += (commands.empty() ? "" : ", ") + command->get_name();
      }
      std::cerr << "Unknown command '" << app.remaining().front() << "'. Give one of: " << commands
                << " (tasnap --help describes them).\n";
      return exit_code::kInvalidInput;
    }
    app.exit(e);
    return exit_code::kInvalidInput;
  } catch (const InputError& e) {
    spdlog::error("{}", e.what());
    return exit_code::kInvalidInput;
  } catch (const DatabaseError& e) {
    spdlog::error("{}", e.what());
    return exit_code::kDatabase;
  } catch (const std::exception& e) {
    spdlog::critical("Internal error: {}", e.what());
    return exit_code::kInternal;
  }
  return exit_status;
}
