// The error types of tasnap. Each type names what the caller should do next.
#pragma once

#include <stdexcept>
#include <string>

namespace tasnap {

// Base of every error tasnap raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Invalid command line, file content or value supplied by the user; nothing was
// written. Fix the input and rerun.
class InputError : public Error {
 public:
  using Error::Error;
};

// The database cannot be used as configured: unreachable at start, bad
// credentials, missing tables or columns, too few free connections. Nothing was
// written; fix the setup and rerun.
class DatabaseError : public Error {
 public:
  using Error::Error;
};

// A database failure that may pass if the whole chunk is retried on a new
// connection: lost connection, serialization failure, deadlock, busy file.
class TransientDatabaseError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// A broken invariant inside tasnap: a bug, never the user's fault.
class InternalError : public Error {
 public:
  using Error::Error;
};

// Process exit codes, documented in the README for operators.
namespace exit_code {
inline constexpr int kSuccess = 0;
inline constexpr int kRunFailed = 1;      // some chunks were not written, or compare found differences
inline constexpr int kInvalidInput = 2;   // bad flags or input values; nothing was done
inline constexpr int kDatabase = 3;       // database unusable before any work; nothing was written
inline constexpr int kInternal = 4;       // a bug in tasnap
}  // namespace exit_code

}  // namespace tasnap
