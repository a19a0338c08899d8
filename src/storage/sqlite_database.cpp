// Owned by the SQLite/data engineer; placeholder so the project links.
#include "core/errors.hpp"
#include "storage/backends.hpp"

namespace tasnap::storage {

// NOTE: placeholder until the SQLite backend lands.
std::unique_ptr<Database> open_sqlite(const DbConfig&, const std::string& path) {
  throw InternalError("The SQLite backend is not implemented yet (" + path + ").");
}

}  // namespace tasnap::storage
