#include "run/launcher.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/errors.hpp"
#include "run/system_info.hpp"

#ifndef TASNAP_MPIEXEC
#define TASNAP_MPIEXEC "mpirun"
#endif

namespace tasnap::run {

int default_workers() { return std::clamp(physical_cores() - 1, 1, 8); }

void relaunch_under_mpirun(int workers, const std::vector<std::string>& args) {
  if (geteuid() == 0 && !std::getenv("OMPI_ALLOW_RUN_AS_ROOT")) {
    throw InputError(
        "Open MPI does not start ranks as root unless allowed. Set OMPI_ALLOW_RUN_AS_ROOT=1 and "
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment, or run tasnap as another user.");
  }

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> command = {TASNAP_MPIEXEC, "-np", std::to_string(workers)};
  const int cores = physical_cores();
  if (workers > cores) {
    spdlog::warn("***WARNING*** {} ranks on {} physical cores: starting mpirun with --oversubscribe, so ranks "
                 "share cores and timings are not representative",
                 workers, cores);
    command.push_back("--oversubscribe");
  }
  command.push_back(self);
  command.insert(command.end(), args.begin(), args.end());

  std::vector<char*> argv;
  for (std::string& word : command) argv.push_back(word.data());
  argv.push_back(nullptr);
  spdlog::info("launching {} ranks: {} -np {} ...", workers, command[0], workers);
  execvp(argv[0], argv.data());
  throw InputError("Cannot start '" + command[0] + "': " + std::strerror(errno) +
                   ". Install Open MPI (package openmpi-bin) or start tasnap under mpirun yourself.");
}

}  // namespace tasnap::run
