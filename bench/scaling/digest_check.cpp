#include "scaling/digest_check.hpp"

#include "scaling/run_telemetry.hpp"

namespace tasnap::scaling {

namespace {

std::string describe(const RunOutcome& run) {
  return "M=" + std::to_string(run.workers) + " repeat " + std::to_string(run.repeat);
}

}  // namespace

std::optional<std::string> DigestCheck::add(const RunOutcome& run) {
  std::optional<std::string> problem;
  if (run.status != kStatusSucceeded) {
    problem = "Run at " + describe(run) + " did not succeed: status '" + run.status + "'" +
              (run.error.empty() ? "" : ", error: " + run.error) + ".";
  } else if (run.digest.empty()) {
    problem = "Run at " + describe(run) + " succeeded but reported no digest.";
  } else if (!reference_) {
    reference_ = run;
  } else if (run.digest != reference_->digest) {
    problem = "Digest mismatch: run at " + describe(run) + " produced " + run.digest + ", but the run at " +
              describe(*reference_) + " produced " + reference_->digest +
              ". The snapshot must not depend on the worker count; compare the two runs with tasnap compare.";
  }

  if (problem) problems_.push_back(*problem);
  return problem;
}

}  // namespace tasnap::scaling
