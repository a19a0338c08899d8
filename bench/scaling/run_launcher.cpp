#include "scaling/run_launcher.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>

#include "core/errors.hpp"

extern char** environ;

namespace tasnap::scaling {

std::vector<std::string> launch_command(const Launch& launch) {
  std::vector<std::string> command = {launch.mpiexec, "-np", std::to_string(launch.workers)};
  if (launch.oversubscribe) command.push_back("--oversubscribe");
  command.push_back(launch.tasnap.string());
  command.insert(command.end(), launch.job_args.begin(), launch.job_args.end());
  return command;
}

LaunchResult run_launch(const Launch& launch) {
  std::vector<std::string> command = launch_command(launch);
  std::vector<char*> argv;
  for (std::string& word : command) argv.push_back(word.data());
  argv.push_back(nullptr);

  // stdin from /dev/null; stdout and stderr into the log file.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, launch.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  const auto started = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    throw InputError("Cannot start '" + command[0] + "': " + std::strerror(spawn_error) +
                     ". Install Open MPI (package openmpi-bin) or give its path with --mpiexec.");
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw InternalError(std::string("waitpid failed for mpirun: ") + std::strerror(errno));
  }
  const auto finished = std::chrono::steady_clock::now();

  LaunchResult result;
  result.wall_seconds = std::chrono::duration<double>(finished - started).count();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool allow_mpirun_as_root() {
  if (geteuid() != 0 || std::getenv("OMPI_ALLOW_RUN_AS_ROOT")) return false;
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  return true;
}

std::string tail_of_file(const std::filesystem::path& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> kept;
  std::string line;
  while (std::getline(in, line)) {
    kept.push_back(line);
    if (static_cast<int>(kept.size()) > lines) kept.pop_front();
  }
  std::string text;
  for (const std::string& item : kept) text += item + "\n";
  return text;
}

}  // namespace tasnap::scaling
