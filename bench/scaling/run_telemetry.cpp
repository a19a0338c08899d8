#include "scaling/run_telemetry.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.hpp"

namespace tasnap::scaling {

namespace {

constexpr int kSupportedSchemaVersion = 1;

using Json = nlohmann::json;

// Reads `key` of `object` as T, with an error that names the field and the file.
template <typename T>
T field(const Json& object, const char* key, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end()) {
    throw InputError("Telemetry " + where + " has no field '" + key + "'. Write it with a tasnap that produces "
                     "telemetry schema_version 1.");
  }
  try {
    return found->get<T>();
  } catch (const Json::exception& e) {
    throw InputError("Telemetry " + where + " has an invalid field '" + key + "' (" + found->dump() +
                     "): " + e.what());
  }
}

std::string optional_text(const Json& object, const char* key, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return "";
  return field<std::string>(object, key, where);
}

RankTelemetry parse_rank(const Json& item, const std::string& where) {
  RankTelemetry rank;
  rank.rank = field<int>(item, "rank", where);
  rank.host = field<std::string>(item, "host", where);
  rank.pid = field<std::int64_t>(item, "pid", where);
  rank.chunks_assigned = field<std::int64_t>(item, "chunks_assigned", where);
  rank.chunks_done = field<std::int64_t>(item, "chunks_done", where);
  rank.tickers = field<std::int64_t>(item, "tickers", where);
  rank.bars_read = field<std::int64_t>(item, "bars_read", where);
  rank.invalid_bars = field<std::int64_t>(item, "invalid_bars", where);
  rank.rows_upserted = field<std::int64_t>(item, "rows_upserted", where);
  rank.tickers_skipped = field<std::int64_t>(item, "tickers_skipped", where);
  rank.retries = field<std::int64_t>(item, "retries", where);
  rank.connect_seconds = field<double>(item, "connect_seconds", where);
  rank.read_seconds = field<double>(item, "read_seconds", where);
  rank.compute_seconds = field<double>(item, "compute_seconds", where);
  rank.write_seconds = field<double>(item, "write_seconds", where);
  rank.total_seconds = field<double>(item, "total_seconds", where);
  rank.peak_rss_kib = field<std::int64_t>(item, "peak_rss_kib", where);
  rank.digest = field<std::string>(item, "digest", where);
  rank.error = field<std::string>(item, "error", where);
  return rank;
}

}  // namespace

std::int64_t RunTelemetry::bars_read() const {
  std::int64_t total = 0;
  for (const RankTelemetry& rank : ranks) total += rank.bars_read;
  return total;
}

RunTelemetry parse_run_telemetry(std::string_view json_text, const std::string& source) {
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw InputError("Telemetry file '" + source + "' is not valid JSON: " + e.what());
  }
  if (!document.is_object()) throw InputError("Telemetry file '" + source + "' is not a JSON object.");

  const std::string where = "file '" + source + "'";
  RunTelemetry run;
  run.schema_version = field<int>(document, "schema_version", where);
  if (run.schema_version != kSupportedSchemaVersion) {
    throw InputError("Telemetry " + where + " has schema_version " + std::to_string(run.schema_version) +
                     "; this harness reads version " + std::to_string(kSupportedSchemaVersion) +
                     ". Rebuild the harness from the same source tree as tasnap.");
  }

  run.run_id = field<std::string>(document, "run_id", where);
  run.mode = field<std::string>(document, "mode", where);
  run.status = field<std::string>(document, "status", where);
  run.as_of_date = field<std::string>(document, "as_of_date", where);
  run.from_date = optional_text(document, "from_date", where);
  run.workers = field<int>(document, "workers", where);
  run.chunk_size = field<std::int64_t>(document, "chunk_size", where);
  run.tickers = field<std::int64_t>(document, "tickers", where);
  run.rows = field<std::int64_t>(document, "rows", where);
  run.digest = field<std::string>(document, "digest", where);
  run.version = field<std::string>(document, "version", where);
  run.wall_seconds = field<double>(document, "wall_seconds", where);
  run.host = field<std::string>(document, "host", where);
  run.database = field<std::string>(document, "database", where);
  run.error = optional_text(document, "error", where);

  const Json ranks = field<Json>(document, "ranks", where);
  if (!ranks.is_array()) throw InputError("Telemetry " + where + " has a field 'ranks' that is not an array.");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    run.ranks.push_back(parse_rank(ranks[i], where + ", ranks[" + std::to_string(i) + "]"));
  }
  return run;
}

RunTelemetry read_run_telemetry(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError("Cannot read the telemetry file '" + path.string() + "'. Check that tasnap wrote it.");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_run_telemetry(text.str(), path.string());
}

}  // namespace tasnap::scaling
