// Starting one tasnap job under mpirun and timing it from the outside.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tasnap::scaling {

struct Launch {
  std::string mpiexec;                 // mpirun, looked up on PATH when not absolute
  int workers = 1;
  bool oversubscribe = false;          // adds --oversubscribe
  std::filesystem::path tasnap;
  std::vector<std::string> job_args;   // "run --db URI ..." after the tasnap path
  std::filesystem::path log_file;      // receives the job's stdout and stderr
};

struct LaunchResult {
  int exit_code = -1;  // 128 + signal number when the job was killed
  double wall_seconds = 0;
};

// The argument vector: mpirun -np M [--oversubscribe] <tasnap> <job_args...>.
std::vector<std::string> launch_command(const Launch& launch);

// Runs the command and waits for it. Throws InputError when mpirun cannot be started.
LaunchResult run_launch(const Launch& launch);

// Sets OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM to 1 in this
// process's environment when running as root and they are unset, so the jobs
// it starts inherit them. Returns true when it set them.
bool allow_mpirun_as_root();

// The last `lines` lines of a text file, for error messages.
std::string tail_of_file(const std::filesystem::path& path, int lines);

}  // namespace tasnap::scaling
