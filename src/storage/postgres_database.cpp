// Owned by the PostgreSQL engineer; placeholder so the project links.
#include "core/errors.hpp"
#include "storage/backends.hpp"

namespace tasnap::storage {

// NOTE: placeholder until the PostgreSQL backend lands.
std::unique_ptr<Database> open_postgres(const DbConfig&) {
  throw InternalError("The PostgreSQL backend is not implemented yet.");
}

}  // namespace tasnap::storage
