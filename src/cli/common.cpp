#include "cli/common.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace tasnap::cli {

std::string resolve_db_uri(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("TASNAP_DB"); env && *env) return env;
  return "sqlite:tasnap.db";
}

void setup_logging(const std::string& level, int rank) {
  // Called again once the level or the rank is known: replace the earlier logger.
  const std::string name = rank >= 0 ? "tasnap-rank-" + std::to_string(rank) : "tasnap";
  spdlog::drop(name);
  auto logger = spdlog::stderr_color_mt(name);
  const std::string rank_tag = rank >= 0 ? " [rank " + std::to_string(rank) + "]" : "";
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e" + rank_tag + " %^%l%$: %v");

  spdlog::level::level_enum floor = spdlog::level::from_str(level);
  if (rank > 0 && floor == spdlog::level::info) floor = spdlog::level::warn;
  logger->set_level(floor);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void add_db_options(CLI::App& command, GlobalOptions& options) {
  command.add_option("--db", options.db.uri,
                     "Database: sqlite:PATH, postgresql://... or a libpq key=value string "
                     "(default: $TASNAP_DB, else sqlite:tasnap.db)");
  command.add_option("--prices-table", options.db.tables.prices, "Price bar table")->capture_default_str();
  command.add_option("--snapshots-table", options.db.tables.snapshots, "Snapshot table")->capture_default_str();
  command.add_option("--runs-table", options.db.tables.runs, "Run log table")->capture_default_str();
  command.add_option("--run-ranks-table", options.db.tables.run_ranks, "Per-rank run telemetry table")
      ->capture_default_str();
  command.add_option("--run-tickers-table", options.db.tables.run_tickers, "Per-ticker run digest table")
      ->capture_default_str();
  command.add_option("--log-level", options.log_level, "Log level: trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
}

}  // namespace tasnap::cli
