// The harness's correctness check: every run of an experiment, at every worker
// count, must succeed and produce the same snapshot digest.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tasnap::scaling {

// The fields of one run that the check compares.
struct RunOutcome {
  int workers = 0;
  int repeat = 0;
  std::string status;  // tasnap's run status, or the harness's reason when no telemetry was written
  std::string digest;
  std::string error;
};

class DigestCheck {
 public:
  // Checks `run` against the first successful run seen so far (the reference).
  // Returns nullopt when it succeeded with the reference digest, else a message
  // naming the worker count, the repeat and both digests (or the failed status).
  std::optional<std::string> add(const RunOutcome& run);

  // The reference run, once a successful run was added.
  const std::optional<RunOutcome>& reference() const { return reference_; }

  // Every message add() returned, in order.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::optional<RunOutcome> reference_;
  std::vector<std::string> problems_;
};

}  // namespace tasnap::scaling
