// SQL text helpers. Only identifiers from flags are ever put into SQL text;
// tickers, dates and values travel as parameters or COPY data.
#pragma once

#include <string>
#include <string_view>

namespace tasnap::storage {

// Quotes `name` as an SQL identifier ("a""b" for a"b), valid in PostgreSQL and
// SQLite. Throws InputError for an empty name or one containing a NUL byte.
std::string quote_identifier(std::string_view name);

}  // namespace tasnap::storage
