#include "run/run_summary.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace tasnap::run {

namespace {

std::string format_fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

nlohmann::json rank_json(const RankTelemetry& t) {
  return {
      {"rank", t.rank},
      {"host", t.host},
      {"pid", t.pid},
      {"chunks_assigned", t.chunks_assigned},
      {"chunks_done", t.chunks_done},
      {"tickers", t.tickers},
      {"bars_read", t.bars_read},
      {"invalid_bars", t.invalid_bars},
      {"rows_upserted", t.rows_upserted},
      {"tickers_skipped", t.tickers_skipped},
      {"skipped_no_bars", t.skipped_no_bars},
      {"skipped_no_valid_bars", t.skipped_no_valid_bars},
      {"skipped_no_bar_on_date", t.skipped_no_bar_on_date},
      {"retries", t.retries},
      {"connect_seconds", t.connect_seconds},
      {"read_seconds", t.read_seconds},
      {"compute_seconds", t.compute_seconds},
      {"write_seconds", t.write_seconds},
      {"total_seconds", t.total_seconds},
      {"peak_rss_kib", t.peak_rss_kib},
      {"digest", t.digest},
      {"error", t.error},
      {"failed_chunks", t.failed_chunks},
  };
}

nlohmann::json optional_date(const std::optional<Date>& date) {
  return date ? nlohmann::json(format_date(*date)) : nlohmann::json(nullptr);
}

}  // namespace

void print_telemetry_table(std::ostream& out, const RunSummary& summary) {
  const storage::RunRecord& run = summary.run;
  out << "run " << run.run_id << "  " << run.mode << "  date " << format_date(run.as_of_date);
  if (run.from_date) out << "  from " << format_date(*run.from_date);
  out << "  status " << run.status << "  wall " << format_fixed(summary.wall_seconds, 2) << " s\n";

  char line[256];
  std::snprintf(line, sizeof line, "%4s %-12s %8s %6s %7s %10s %8s %10s %7s %5s %8s %8s %8s %8s %8s %9s\n", "rank",
                "host", "pid", "chunks", "tickers", "bars", "invalid", "rows", "skipped", "retry", "connect",
                "read", "compute", "write", "total", "rss_MiB");
  out << line;

  RankTelemetry total;
  for (const RankTelemetry& t : summary.ranks) {
    std::snprintf(line, sizeof line,
                  "%4d %-12.12s %8lld %3lld/%-2lld %7lld %10lld %8lld %10lld %7lld %5lld %8.3f %8.3f %8.3f %8.3f %8.3f "
                  "%9.1f\n",
                  t.rank, t.host.c_str(), static_cast<long long>(t.pid), static_cast<long long>(t.chunks_done),
                  static_cast<long long>(t.chunks_assigned), static_cast<long long>(t.tickers),
                  static_cast<long long>(t.bars_read), static_cast<long long>(t.invalid_bars),
                  static_cast<long long>(t.rows_upserted), static_cast<long long>(t.tickers_skipped),
                  static_cast<long long>(t.retries), t.connect_seconds, t.read_seconds, t.compute_seconds,
                  t.write_seconds, t.total_seconds, static_cast<double>(t.peak_rss_kib) / 1024.0);
    out << line;
    total.chunks_done += t.chunks_done;
    total.chunks_assigned += t.chunks_assigned;
    total.tickers += t.tickers;
    total.bars_read += t.bars_read;
    total.invalid_bars += t.invalid_bars;
    total.rows_upserted += t.rows_upserted;
    total.tickers_skipped += t.tickers_skipped;
    total.retries += t.retries;
  }
  std::snprintf(line, sizeof line, "%4s %-12s %8s %3lld/%-2lld %7lld %10lld %8lld %10lld %7lld %5lld\n", "all", "",
                "", static_cast<long long>(total.chunks_done), static_cast<long long>(total.chunks_assigned),
                static_cast<long long>(total.tickers), static_cast<long long>(total.bars_read),
                static_cast<long long>(total.invalid_bars), static_cast<long long>(total.rows_upserted),
                static_cast<long long>(total.tickers_skipped), static_cast<long long>(total.retries));
  out << line;
  out << "digest " << run.digest << "  rows " << run.rows << "\n";
  for (const RankTelemetry& t : summary.ranks) {
    if (!t.error.empty()) out << "rank " << t.rank << " error: " << t.error << "\n";
  }
  out.flush();
}

void write_telemetry_json(const std::string& path, const RunSummary& summary) {
  const storage::RunRecord& run = summary.run;
  nlohmann::json document = {
      {"schema_version", 1},
      {"run_id", run.run_id},
      {"mode", run.mode},
      {"status", run.status},
      {"as_of_date", format_date(run.as_of_date)},
      {"from_date", optional_date(run.from_date)},
      {"history_start", optional_date(run.history_start)},
      {"workers", run.workers},
      {"chunk_size", run.chunk_size},
      {"tickers", run.tickers},
      {"rows", run.rows},
      {"digest", run.digest},
      {"params_hash", run.params_hash},
      {"version", run.version},
      {"started_at", run.started_at},
      {"finished_at", run.finished_at},
      {"wall_seconds", summary.wall_seconds},
      {"host", run.host},
      {"database", summary.database},
      {"error", run.error},
      {"ranks", nlohmann::json::array()},
  };
  for (const RankTelemetry& t : summary.ranks) document["ranks"].push_back(rank_json(t));
  const std::string text = document.dump(2) + "\n";

  // Write a sibling file and rename it, so a reader never sees half a document.
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw InputError("Cannot write the telemetry file '" + path + "': " + std::strerror(errno) +
                     ". Check the folder exists and is writable.");
  }
  const ssize_t written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) || std::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    throw InputError("Cannot write the telemetry file '" + path + "': " + std::strerror(errno) + ".");
  }
}

}  // namespace tasnap::run
