// Constructors of the storage backends, called by open_database().
#pragma once

#include <memory>
#include <string>

#include "storage/database.hpp"

namespace tasnap::storage {

// `path` is the file part of "sqlite:PATH".
std::unique_ptr<Database> open_sqlite(const DbConfig& config, const std::string& path);

// `config.uri` is a postgresql:// URI or a libpq key=value string.
std::unique_ptr<Database> open_postgres(const DbConfig& config);

}  // namespace tasnap::storage
