#include "parallel/world.hpp"

#include <boost/mpi.hpp>
#include <boost/serialization/optional.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <array>
#include <cstdlib>
#include <list>

namespace boost::serialization {

template <class Archive>
void serialize(Archive& archive, tasnap::parallel::RunSetup& setup, unsigned) {
  archive& setup.ok& setup.exit_code& setup.error& setup.run_id& setup.as_of_days& setup.from_days;
  archive& setup.chunk_count& setup.tickers;
}

template <class Archive>
void serialize(Archive& archive, tasnap::parallel::Chunk& chunk, unsigned) {
  archive& chunk.index& chunk.tickers;
}

template <class Archive>
void serialize(Archive& archive, tasnap::RankTelemetry& t, unsigned) {
  archive& t.rank& t.host& t.pid;
  archive& t.chunks_assigned& t.chunks_done& t.tickers& t.bars_read& t.invalid_bars& t.rows_upserted;
  archive& t.tickers_skipped& t.skipped_no_bars& t.skipped_no_valid_bars& t.skipped_no_bar_on_date;
  archive& t.retries& t.connect_seconds& t.read_seconds& t.compute_seconds& t.write_seconds;
  archive& t.total_seconds& t.peak_rss_kib& t.digest& t.error& t.failed_chunks;
}

template <class Archive>
void serialize(Archive& archive, tasnap::TickerDigest& d, unsigned) {
  archive& d.ticker& d.rank& d.chunk& d.rows& d.invalid_bars& d.digest;
}

template <class Archive>
void serialize(Archive& archive, tasnap::parallel::RankReport& report, unsigned) {
  archive& report.telemetry& report.tickers;
}

}  // namespace boost::serialization

namespace tasnap::parallel {

namespace {

constexpr int kProgressTag = 17;
constexpr int kProgressFields = 5;

using ProgressMessage = std::array<std::int64_t, kProgressFields>;

ProgressMessage encode(const ChunkProgress& p) { return {p.rank, p.chunk, p.tickers, p.rows, p.failed}; }

ChunkProgress decode(const ProgressMessage& m) {
  return ChunkProgress{.rank = m[0], .chunk = m[1], .tickers = m[2], .rows = m[3], .failed = m[4]};
}

}  // namespace

struct World::State {
  boost::mpi::environment environment;
  boost::mpi::communicator world;

  // Progress notes in flight: the buffers must outlive their requests.
  std::list<std::pair<ProgressMessage, boost::mpi::request>> pending;

  State(int& argc, char**& argv) : environment(argc, argv, /*abort_on_exception=*/true) {}
};

World::World(int& argc, char**& argv) : state_(std::make_unique<State>(argc, argv)) {}

World::~World() {
  // Every note must be delivered before MPI shuts down.
  for (auto& [message, request] : state_->pending) request.wait();
}

int World::rank() const { return state_->world.rank(); }

int World::size() const { return state_->world.size(); }

RunSetup World::broadcast_setup(const RunSetup& setup) {
  RunSetup shared = setup;
  boost::mpi::broadcast(state_->world, shared, 0);
  return shared;
}

std::vector<Chunk> World::scatter_chunks(const std::vector<std::vector<Chunk>>& per_rank) {
  std::vector<Chunk> mine;
  if (is_root()) {
    boost::mpi::scatter(state_->world, per_rank, mine, 0);
  } else {
    boost::mpi::scatter(state_->world, mine, 0);
  }
  return mine;
}

void World::send_progress(const ChunkProgress& progress) {
  // Drop notes that have been delivered, so the list stays short.
  state_->pending.remove_if([](auto& entry) { return entry.second.test().has_value(); });

  auto& entry = state_->pending.emplace_back(encode(progress), boost::mpi::request{});
  entry.second = state_->world.isend(0, kProgressTag, entry.first.data(), kProgressFields);
}

std::optional<ChunkProgress> World::poll_progress() {
  if (!state_->world.iprobe(boost::mpi::any_source, kProgressTag)) return std::nullopt;
  return wait_progress();
}

ChunkProgress World::wait_progress() {
  ProgressMessage message{};
  state_->world.recv(boost::mpi::any_source, kProgressTag, message.data(), kProgressFields);
  return decode(message);
}

std::vector<RankReport> World::gather_reports(const RankReport& mine) {
  std::vector<RankReport> all;
  if (is_root()) {
    boost::mpi::gather(state_->world, mine, all, 0);
  } else {
    boost::mpi::gather(state_->world, mine, 0);
  }
  return all;
}

int World::broadcast_exit_code(int code) {
  boost::mpi::broadcast(state_->world, code, 0);
  return code;
}

void World::abort(int code) {
  state_->environment.abort(code);
  std::abort();  // not reached: MPI_Abort does not return
}

}  // namespace tasnap::parallel
