// The MPI world of a run, behind a small facade so Boost.MPI stays out of
// every other header. Collective calls must be made by every rank in the same
// order.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "parallel/chunk_plan.hpp"
#include "parallel/messages.hpp"

namespace tasnap::parallel {

class World {
 public:
  // Initialises MPI (a singleton world when not started by mpirun).
  World(int& argc, char**& argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }

  // `setup` is read on rank 0 and returned on every rank.
  RunSetup broadcast_setup(const RunSetup& setup);

  // `per_rank` (one list per rank) is read on rank 0; every rank gets its own list.
  std::vector<Chunk> scatter_chunks(const std::vector<std::vector<Chunk>>& per_rank);

  // Sends a progress note to rank 0 without waiting (rank 0 handles its own notes locally).
  void send_progress(const ChunkProgress& progress);

  // Rank 0: the next progress note from another rank, if one has arrived.
  std::optional<ChunkProgress> poll_progress();

  // Rank 0: waits for the next progress note from another rank.
  ChunkProgress wait_progress();

  // Every rank's report, in rank order, on rank 0; empty on other ranks.
  std::vector<RankReport> gather_reports(const RankReport& mine);

  // The exit code decided on rank 0, on every rank.
  int broadcast_exit_code(int code);

  // Ends every rank of the job at once; for broken invariants only.
  [[noreturn]] void abort(int code);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tasnap::parallel
