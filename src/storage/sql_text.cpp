#include "storage/sql_text.hpp"

#include "core/errors.hpp"

namespace tasnap::storage {

std::string quote_identifier(std::string_view name) {
  if (name.empty()) throw InputError("Invalid table name: it is empty. Give a non-empty name.");
  if (name.find('\0') != std::string_view::npos) {
    throw InputError("Invalid table name: it contains a NUL byte. Remove it.");
  }

  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace tasnap::storage
