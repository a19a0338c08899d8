#include "storage/database.hpp"

#include "core/errors.hpp"

namespace tasnap::storage {

// NOTE: placeholder until the backends land.
std::unique_ptr<Database> open_database(const DbConfig& config) {
  throw InternalError("No storage backend is implemented yet for " + config.uri);
}

}  // namespace tasnap::storage
