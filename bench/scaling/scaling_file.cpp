#include "scaling/scaling_file.hpp"

#include <sys/stat.h>

#include <cmath>
#include <limits>
#include <utility>

#include "core/errors.hpp"

namespace tasnap::scaling {

namespace {

constexpr hsize_t kRowsPerChunk = 64;
constexpr double kMissingSeconds = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kMissingCount = -1;

Hid utf8_string_type() {
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type", "H5T_C_S1");
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "set variable string size", "H5T_C_S1");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set UTF-8 character set", "H5T_C_S1");
  return type;
}

bool link_exists(hid_t location, const std::string& path) {
  ScopedErrorMute mute;  // a missing intermediate group means false here, not an error
  return checked_bool(H5Lexists(location, path.c_str(), H5P_DEFAULT), "check link", path);
}

// Writes attribute `name` of `object`, replacing an existing one. `count` 0 writes a scalar.
void write_attribute(hid_t object, const std::string& object_path, const char* name, hid_t file_type,
                     hid_t memory_type, const void* data, hsize_t count = 0) {
  const std::string path = object_path + "@" + name;
  if (checked_bool(H5Aexists(object, name), "check attribute", path)) {
    check_status(H5Adelete(object, name), "delete attribute", path);
  }
  Hid space(count == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose,
            "create dataspace", path);
  Hid attribute(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                "create attribute", path);
  check_status(H5Awrite(attribute.get(), memory_type, data), "write attribute", path);
}

void write_text_attribute(hid_t object, const std::string& object_path, const char* name, const std::string& value) {
  const Hid type = utf8_string_type();
  const char* text = value.c_str();
  write_attribute(object, object_path, name, type.get(), type.get(), &text);
}

void write_integer_attribute(hid_t object, const std::string& object_path, const char* name, std::int64_t value) {
  write_attribute(object, object_path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_integer_list_attribute(hid_t object, const std::string& object_path, const char* name,
                                  const std::vector<int>& values) {
  const std::vector<std::int64_t> wide(values.begin(), values.end());
  write_attribute(object, object_path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, wide.data(), wide.size());
}

// Creates an empty dataset that grows by rows: 1-D when `columns` is 0, else
// (rows x columns). `fill` (in `type`) is what unwritten cells read as.
void create_run_dataset(hid_t group, const std::string& group_path, const char* name, hid_t type, int columns,
                        const void* fill) {
  const std::string path = group_path + "/" + name;
  const int rank = columns == 0 ? 1 : 2;
  const hsize_t dims[2] = {0, static_cast<hsize_t>(columns)};
  const hsize_t max_dims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(columns)};
  const hsize_t chunk[2] = {kRowsPerChunk, static_cast<hsize_t>(std::max(columns, 1))};

  Hid space(H5Screate_simple(rank, dims, max_dims), H5Sclose, "create dataspace", path);
  Hid properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create dataset properties", path);
  check_status(H5Pset_chunk(properties.get(), rank, chunk), "set chunk size", path);
  if (fill) check_status(H5Pset_fill_value(properties.get(), type, fill), "set fill value", path);
  Hid dataset(H5Dcreate2(group, name, type, space.get(), H5P_DEFAULT, properties.get(), H5P_DEFAULT), H5Dclose,
              "create dataset", path);
}

// Extends dataset `name` to row + 1 rows and writes `data` (one value, or
// `columns` values) into that row.
void append_row(hid_t group, const std::string& group_path, const char* name, hid_t memory_type, const void* data,
                std::int64_t row, int columns = 0) {
  const std::string path = group_path + "/" + name;
  const hsize_t new_dims[2] = {static_cast<hsize_t>(row + 1), static_cast<hsize_t>(columns)};
  const hsize_t start[2] = {static_cast<hsize_t>(row), 0};
  const hsize_t count[2] = {1, static_cast<hsize_t>(columns)};

  Hid dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, "open dataset", path);
  check_status(H5Dset_extent(dataset.get(), new_dims), "extend dataset", path);
  Hid file_space(H5Dget_space(dataset.get()), H5Sclose, "get dataspace", path);
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
               "select row", path);
  const hsize_t memory_dims[1] = {static_cast<hsize_t>(std::max(columns, 1))};
  Hid memory_space(H5Screate_simple(1, memory_dims, nullptr), H5Sclose, "create dataspace", path);
  check_status(H5Dwrite(dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
               "write row", path);
}

void write_fixed_dataset(hid_t group, const std::string& group_path, const char* name, hid_t file_type,
                         hid_t memory_type, const void* data, std::size_t count) {
  const std::string path = group_path + "/" + name;
  const hsize_t dims[1] = {count};
  Hid space(H5Screate_simple(1, dims, nullptr), H5Sclose, "create dataspace", path);
  Hid dataset(H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
              "create dataset", path);
  check_status(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset", path);
}

void describe_dataset(hid_t group, const std::string& group_path, const char* name, const std::string& units,
                      const std::string& fill) {
  const std::string path = group_path + "/" + name;
  Hid dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, "open dataset", path);
  write_text_attribute(dataset.get(), path, "units", units);
  if (!fill.empty()) write_text_attribute(dataset.get(), path, "fill", fill);
}

// The per-rank phase times, in the order they appear in the file.
struct RankSeconds {
  const char* name;
  double RankTelemetry::*field;
};
constexpr RankSeconds kRankSeconds[] = {
    {"connect_seconds", &RankTelemetry::connect_seconds}, {"read_seconds", &RankTelemetry::read_seconds},
    {"compute_seconds", &RankTelemetry::compute_seconds}, {"write_seconds", &RankTelemetry::write_seconds},
    {"total_seconds", &RankTelemetry::total_seconds},
};

struct RankCount {
  const char* name;
  std::int64_t RankTelemetry::*field;
  const char* units;
};
constexpr RankCount kRankCounts[] = {
    {"rows", &RankTelemetry::rows_upserted, "rows upserted"},
    {"peak_rss_kib", &RankTelemetry::peak_rss_kib, "KiB"},
};

constexpr const char* kNaNFill = "NaN in the cells of ranks beyond the run's worker count, and in every cell of a "
                                 "run without telemetry";
constexpr const char* kCountFill = "-1 in the cells of ranks beyond the run's worker count, and in every cell of a "
                                   "run without telemetry";

}  // namespace

ScalingFile::ScalingFile(const std::filesystem::path& path) : path_(path) {
  const std::string name = path.string();
  if (std::filesystem::exists(path)) {
    htri_t is_hdf5 = 0;
    {
      ScopedErrorMute mute;  // a non-HDF5 file is reported below with the fix
      is_hdf5 = H5Fis_hdf5(name.c_str());
    }
    if (is_hdf5 <= 0) {
      throw InputError("'" + name + "' exists but is not an HDF5 file. Give --out a new path or an existing "
                       "scaling file.");
    }
    file_ = Hid(H5Fopen(name.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, "open file read-write", name);
  } else {
    // HDF5 creates files with mode 0666 minus the umask; add o-w to the umask
    // for this call so the file is never world-writable.
    const mode_t saved_umask = umask(0);
    umask(saved_umask | S_IWOTH);
    const hid_t id = H5Fcreate(name.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    umask(saved_umask);
    file_ = Hid(id, H5Fclose, "create file", name);
  }

  if (!link_exists(file_.get(), "/experiments")) {
    Hid group(H5Gcreate2(file_.get(), "/experiments", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
              "create group", name + ":/experiments");
  }
}

ExperimentWriter ScalingFile::add_experiment(const std::string& name, const ExperimentInfo& info, int max_ranks) {
  const std::string path = "/experiments/" + name;
  if (link_exists(file_.get(), path)) {
    throw InputError("Experiment '" + path + "' already exists in '" + path_.string() +
                     "'. Give another --label, or wait a second so the timestamp differs.");
  }
  Hid group(H5Gcreate2(file_.get(), path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "create group",
            path);
  const hid_t g = group.get();

  write_integer_attribute(g, path, "schema_version", kLayoutVersion);
  write_text_attribute(g, path, "label", info.label);
  write_text_attribute(g, path, "created_at", info.created_at);
  write_text_attribute(g, path, "host", info.host);
  write_integer_attribute(g, path, "cores", info.physical_cores);
  write_text_attribute(g, path, "git_commit", info.git_commit);
  write_text_attribute(g, path, "tasnap_version", info.tasnap_version);
  write_text_attribute(g, path, "compiler", info.compiler);
  write_text_attribute(g, path, "build_type", info.build_type);
  write_text_attribute(g, path, "mode", info.mode);
  write_integer_attribute(g, path, "chunk_size", info.chunk_size);
  write_text_attribute(g, path, "date", info.date);
  write_text_attribute(g, path, "from_date", info.from_date);
  write_text_attribute(g, path, "to_date", info.to_date);
  write_integer_list_attribute(g, path, "workers_requested", info.workers);
  write_integer_attribute(g, path, "repeats", info.repeats);
  write_text_attribute(g, path, "order", info.order);
  write_integer_attribute(g, path, "max_ranks", max_ranks);

  // Per-run datasets.
  const Hid text = utf8_string_type();
  create_run_dataset(g, path, "workers", H5T_STD_I32LE, 0, nullptr);
  create_run_dataset(g, path, "repeat", H5T_STD_I32LE, 0, nullptr);
  create_run_dataset(g, path, "wall_seconds", H5T_IEEE_F64LE, 0, nullptr);
  create_run_dataset(g, path, "tasnap_wall_seconds", H5T_IEEE_F64LE, 0, nullptr);
  create_run_dataset(g, path, "load_average", H5T_IEEE_F64LE, 0, nullptr);
  create_run_dataset(g, path, "exit_code", H5T_STD_I32LE, 0, nullptr);
  create_run_dataset(g, path, "oversubscribed", H5T_STD_I8LE, 0, nullptr);
  create_run_dataset(g, path, "status", text.get(), 0, nullptr);
  create_run_dataset(g, path, "digest", text.get(), 0, nullptr);
  create_run_dataset(g, path, "run_id", text.get(), 0, nullptr);
  describe_dataset(g, path, "wall_seconds", "seconds", "");
  describe_dataset(g, path, "tasnap_wall_seconds", "seconds", "");
  describe_dataset(g, path, "load_average", "runnable processes, 1-minute average (getloadavg)", "");

  // Per-rank datasets: (runs x max_ranks), padded with a fill value.
  for (const RankSeconds& column : kRankSeconds) {
    create_run_dataset(g, path, column.name, H5T_IEEE_F64LE, max_ranks, &kMissingSeconds);
    describe_dataset(g, path, column.name, "seconds", kNaNFill);
  }
  for (const RankCount& column : kRankCounts) {
    create_run_dataset(g, path, column.name, H5T_STD_I64LE, max_ranks, &kMissingCount);
    describe_dataset(g, path, column.name, column.units, kCountFill);
  }

  check_status(H5Fflush(g, H5F_SCOPE_GLOBAL), "flush file", path);
  return ExperimentWriter(std::move(group), path, max_ranks);
}

void ScalingFile::close() { file_.close(); }

ExperimentWriter::ExperimentWriter(Hid group, std::string path, int max_ranks)
    : group_(std::move(group)), path_(std::move(path)), max_ranks_(max_ranks) {}

void ExperimentWriter::set_run_facts(const RunFacts& facts) {
  const hid_t g = group_.get();
  write_text_attribute(g, path_, "database", facts.database);
  write_text_attribute(g, path_, "database_kind", facts.database_kind);
  write_text_attribute(g, path_, "date", facts.as_of_date);
  write_integer_attribute(g, path_, "chunk_size", facts.chunk_size);
  write_integer_attribute(g, path_, "tickers", facts.tickers);
  write_integer_attribute(g, path_, "bars", facts.bars);
  write_integer_attribute(g, path_, "rows", facts.rows);
  check_status(H5Fflush(g, H5F_SCOPE_GLOBAL), "flush file", path_);
}

void ExperimentWriter::append_run(const RunRecord& run) {
  if (static_cast<int>(run.ranks.size()) > max_ranks_) {
    throw InternalError("Run at M=" + std::to_string(run.workers) + " reported " + std::to_string(run.ranks.size()) +
                        " ranks, more than the " + std::to_string(max_ranks_) + " columns of " + path_ + ".");
  }
  const hid_t g = group_.get();
  const std::int64_t row = runs_;

  const std::int8_t oversubscribed = run.oversubscribed ? 1 : 0;
  const char* status = run.status.c_str();
  const char* digest = run.digest.c_str();
  const char* run_id = run.run_id.c_str();
  const Hid text = utf8_string_type();
  append_row(g, path_, "workers", H5T_NATIVE_INT, &run.workers, row);
  append_row(g, path_, "repeat", H5T_NATIVE_INT, &run.repeat, row);
  append_row(g, path_, "wall_seconds", H5T_NATIVE_DOUBLE, &run.wall_seconds, row);
  append_row(g, path_, "tasnap_wall_seconds", H5T_NATIVE_DOUBLE, &run.tasnap_wall_seconds, row);
  append_row(g, path_, "load_average", H5T_NATIVE_DOUBLE, &run.load_average, row);
  append_row(g, path_, "exit_code", H5T_NATIVE_INT, &run.exit_code, row);
  append_row(g, path_, "oversubscribed", H5T_NATIVE_INT8, &oversubscribed, row);
  append_row(g, path_, "status", text.get(), &status, row);
  append_row(g, path_, "digest", text.get(), &digest, row);
  append_row(g, path_, "run_id", text.get(), &run_id, row);

  // Cells of ranks the run did not have keep the fill value.
  for (const RankSeconds& column : kRankSeconds) {
    std::vector<double> cells(max_ranks_, kMissingSeconds);
    for (std::size_t r = 0; r < run.ranks.size(); ++r) cells[r] = run.ranks[r].*column.field;
    append_row(g, path_, column.name, H5T_NATIVE_DOUBLE, cells.data(), row, max_ranks_);
  }
  for (const RankCount& column : kRankCounts) {
    std::vector<std::int64_t> cells(max_ranks_, kMissingCount);
    for (std::size_t r = 0; r < run.ranks.size(); ++r) cells[r] = run.ranks[r].*column.field;
    append_row(g, path_, column.name, H5T_NATIVE_INT64, cells.data(), row, max_ranks_);
  }

  ++runs_;
  check_status(H5Fflush(g, H5F_SCOPE_GLOBAL), "flush file", path_);
}

void ExperimentWriter::write_summary(const std::vector<WorkerSummary>& summaries) {
  const std::string path = path_ + "/summary";
  if (link_exists(group_.get(), "summary")) {
    check_status(H5Ldelete(group_.get(), "summary", H5P_DEFAULT), "delete group", path);
  }
  Hid group(H5Gcreate2(group_.get(), "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "create group",
            path);
  const hid_t g = group.get();

  std::vector<int> workers;
  std::vector<int> runs;
  std::vector<double> median_wall, min_wall, max_wall, speedup, efficiency, serial_fraction, paired;
  for (const WorkerSummary& summary : summaries) {
    workers.push_back(summary.workers);
    runs.push_back(summary.runs);
    median_wall.push_back(summary.median_wall);
    min_wall.push_back(summary.min_wall);
    max_wall.push_back(summary.max_wall);
    speedup.push_back(summary.speedup);
    efficiency.push_back(summary.efficiency);
    serial_fraction.push_back(summary.karp_flatt);
    paired.push_back(summary.paired_speedup);
  }
  const std::size_t n = summaries.size();
  write_fixed_dataset(g, path, "workers", H5T_STD_I32LE, H5T_NATIVE_INT, workers.data(), n);
  write_fixed_dataset(g, path, "runs", H5T_STD_I32LE, H5T_NATIVE_INT, runs.data(), n);
  write_fixed_dataset(g, path, "median_wall", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, median_wall.data(), n);
  write_fixed_dataset(g, path, "min_wall", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, min_wall.data(), n);
  write_fixed_dataset(g, path, "max_wall", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, max_wall.data(), n);
  write_fixed_dataset(g, path, "speedup", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, speedup.data(), n);
  write_fixed_dataset(g, path, "efficiency", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, efficiency.data(), n);
  write_fixed_dataset(g, path, "karp_flatt", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, serial_fraction.data(), n);
  write_fixed_dataset(g, path, "paired_speedup", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, paired.data(), n);
  write_text_attribute(g, path, "source",
                       "successful runs only; speedup = median wall at M=1 / median wall at M; efficiency = "
                       "speedup / M; karp_flatt = (1/speedup - 1/M) / (1 - 1/M), NaN at M=1; paired_speedup = "
                       "median over repeats r of wall(M=1, r) / wall(M, r)");

  check_status(H5Fflush(g, H5F_SCOPE_GLOBAL), "flush file", path);
}

}  // namespace tasnap::scaling
