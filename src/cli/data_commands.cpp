// The data subcommands: init (create the tables), load (CSV files into the
// price table) and gen (synthetic bars for scale tests).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/common.hpp"
#include "core/errors.hpp"
#include "storage/csv_loader.hpp"
#include "storage/generator.hpp"

namespace tasnap::cli {

namespace {

struct LoadArguments {
  bool strict = false;
  std::vector<std::string> files;
};

struct GenerateArguments {
  std::int64_t tickers = 0;
  std::int32_t days = 0;
  std::string end_date = "2021-04-21";
  std::uint64_t seed = 1;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Opens the database of the options with its tables created and checked.
std::unique_ptr<storage::Database> open_with_schema(GlobalOptions& options) {
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  options.db.uri = resolve_db_uri(options.db.uri);
  auto database = storage::open_database(options.db);
  database->init_schema();
  return database;
}

void run_init(GlobalOptions& options) {
  auto database = open_with_schema(options);
  std::printf("Tables ready in %s\n", storage::redact_uri(database->describe()).c_str());
}

int run_load(GlobalOptions& options, const LoadArguments& arguments) {
  // Fail on a missing file before touching the database.
  std::vector<std::filesystem::path> files;
  for (const auto& file : arguments.files) {
    if (!std::filesystem::is_regular_file(file)) {
      throw InputError("CSV file '" + file + "' does not exist or is not a regular file. "
                       "Check the path.");
    }
    files.emplace_back(file);
  }

  auto database = open_with_schema(options);
  storage::LoadOptions load_options;
  load_options.strict = arguments.strict;
  load_options.on_reject = [](const std::string& message) { std::cerr << message << '\n'; };

  const auto start = std::chrono::steady_clock::now();
  const auto stats = storage::load_csv_files(*database, files, load_options);
  const double seconds = seconds_since(start);

  if (!stats.loaded) {
    std::printf("Read %lld rows, rejected %lld; loaded nothing because of --strict\n",
                static_cast<long long>(stats.rows_read),
                static_cast<long long>(stats.rows_rejected));
    return exit_code::kInvalidInput;
  }
  std::printf("Read %lld rows from %zu file%s: loaded %lld, rejected %lld, duplicates %lld "
              "(the last line of each key wins) in %.1f s (%.0f rows/s)\n",
              static_cast<long long>(stats.rows_read), files.size(), files.size() == 1 ? "" : "s",
              static_cast<long long>(stats.rows_loaded),
              static_cast<long long>(stats.rows_rejected),
              static_cast<long long>(stats.duplicates), seconds,
              seconds > 0 ? static_cast<double>(stats.rows_loaded) / seconds : 0.0);
  return exit_code::kSuccess;
}

void run_generate(GlobalOptions& options, const GenerateArguments& arguments) {
  storage::GenerateOptions generate_options;
  generate_options.tickers = arguments.tickers;
  generate_options.days = arguments.days;
  generate_options.end_date = parse_date_or_throw(arguments.end_date, "--end-date");
  generate_options.seed = arguments.seed;

  auto database = open_with_schema(options);
  const auto start = std::chrono::steady_clock::now();
  const auto stats = storage::generate_prices(*database, generate_options);
  const double seconds = seconds_since(start);

  std::printf("Generated %lld rows for %lld tickers (%lld splits, %lld gaps, %lld short "
              "histories) in %.1f s\n",
              static_cast<long long>(stats.rows), static_cast<long long>(stats.tickers),
              static_cast<long long>(stats.splits), static_cast<long long>(stats.gaps),
              static_cast<long long>(stats.short_histories), seconds);
}

}  // namespace

void register_data_commands(CLI::App& app, GlobalOptions& options, int& exit_status) {
  auto* init = app.add_subcommand("init", "Create the tables if missing, then check their columns");
  add_db_options(*init, options);
  init->callback([&options] { run_init(options); });

  auto load_arguments = std::make_shared<LoadArguments>();
  auto* load = app.add_subcommand("load", "Load long-format price CSV files (plain or .gz)");
  add_db_options(*load, options);
  load->add_flag("--strict", load_arguments->strict,
                 "Load nothing when any line of any file is invalid (exit code 2)");
  load->add_option("FILE", load_arguments->files,
                   "CSV file with header ticker,trade_date,open,high,low,close,adj_close,volume,"
                   "split_factor")
      ->required();
  load->callback([&options, &exit_status, load_arguments] {
    exit_status = run_load(options, *load_arguments);
  });

  auto generate_arguments = std::make_shared<GenerateArguments>();
  auto* gen = app.add_subcommand("gen", "Generate deterministic synthetic bars for scale tests");
  add_db_options(*gen, options);
  gen->add_option("--tickers", generate_arguments->tickers, "Number of tickers (G00001, ...)")
      ->required()
      ->check(CLI::Range(1, 100'000'000).description("a whole number of at least 1"));
  gen->add_option("--days", generate_arguments->days, "Weekdays of history per ticker")
      ->required()
      ->check(CLI::Range(1, 1'000'000).description("a whole number of at least 1"));
  gen->add_option("--end-date", generate_arguments->end_date,
                  "Last date (YYYY-MM-DD); histories end on the last weekday on or before it")
      ->capture_default_str();
  gen->add_option("--seed", generate_arguments->seed, "Seed of the random walk; same seed, same bars")
      ->capture_default_str();
  gen->callback([&options, generate_arguments] { run_generate(options, *generate_arguments); });
}

}  // namespace tasnap::cli
