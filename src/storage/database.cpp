#include "storage/database.hpp"

#include <algorithm>
#include <string>

#include "core/errors.hpp"
#include "storage/backends.hpp"

namespace tasnap::storage {

namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

bool starts_with_any_scheme(std::string_view uri) {
  return uri.starts_with("postgresql://") || uri.starts_with("postgres://");
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Replaces the password in the user info and in a "password=" query parameter
// of a postgresql:// URI.
std::string redact_postgres_uri(std::string_view uri) {
  std::string text(uri);
  const std::size_t authority_begin = text.find("://") + 3;
  const std::size_t query_begin = std::min(text.find('?', authority_begin), text.size());

  // The user info ends at the last '@' before the query, so an unencoded '@' in
  // the password is still hidden.
  const std::size_t at = text.rfind('@', query_begin == text.size() ? std::string::npos : query_begin);
  std::size_t query_offset = query_begin;
  if (at != std::string::npos && at >= authority_begin) {
    const std::size_t colon = text.find(':', authority_begin);
    if (colon != std::string::npos && colon < at) {
      text.replace(colon + 1, at - colon - 1, "***");
      query_offset = text.find('?', authority_begin);
      if (query_offset == std::string::npos) query_offset = text.size();
    }
  }

  // Query parameters: password=VALUE up to the next '&' or '#'.
  std::size_t pos = query_offset;
  while (pos < text.size()) {
    const std::size_t key_begin = pos + 1;
    const std::size_t key_end = text.find('=', key_begin);
    std::size_t value_end = text.find_first_of("&#", key_begin);
    if (value_end == std::string::npos) value_end = text.size();
    if (key_end != std::string::npos && key_end < value_end &&
        text.compare(key_begin, key_end - key_begin, "password") == 0) {
      text.replace(key_end + 1, value_end - key_end - 1, "***");
      value_end = key_end + 4;
    }
    if (value_end >= text.size() || text[value_end] == '#') break;
    pos = value_end;
  }
  return text;
}

// Replaces the value of every "password" key in a libpq key=value string. Values
// may be single-quoted with backslash escapes, as libpq accepts them.
std::string redact_key_value(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (is_space(text[pos])) {
      out += text[pos++];
      continue;
    }

    const std::size_t key_begin = pos;
    while (pos < text.size() && text[pos] != '=' && !is_space(text[pos])) ++pos;
    const std::string_view key = text.substr(key_begin, pos - key_begin);
    out.append(key);

    while (pos < text.size() && is_space(text[pos])) out += text[pos++];
    if (pos >= text.size() || text[pos] != '=') continue;
    out += text[pos++];
    while (pos < text.size() && is_space(text[pos])) out += text[pos++];

    const std::size_t value_begin = pos;
    if (pos < text.size() && text[pos] == '\'') {
      ++pos;
      while (pos < text.size() && text[pos] != '\'') pos += text[pos] == '\\' ? 2 : 1;
      pos = std::min(pos + 1, text.size());
    } else {
      while (pos < text.size() && !is_space(text[pos])) ++pos;
    }

    if (key == "password") {
      out += "***";
    } else {
      out.append(text.substr(value_begin, pos - value_begin));
    }
  }
  return out;
}

}  // namespace

Backend backend_of(std::string_view uri) {
  if (uri.starts_with(kSqlitePrefix)) return Backend::sqlite;
  if (starts_with_any_scheme(uri)) return Backend::postgresql;
  if (uri.find('=') != std::string_view::npos) return Backend::postgresql;

  throw InputError("Invalid database URI '" + redact_uri(uri) +
                   "'. Expected sqlite:PATH (e.g. sqlite:tasnap.db), a postgresql:// or "
                   "postgres:// URI, or a libpq key=value string (e.g. 'host=/tmp dbname=tasnap').");
}

std::unique_ptr<Database> open_database(const DbConfig& config) {
  if (backend_of(config.uri) == Backend::postgresql) return open_postgres(config);

  const std::string path = config.uri.substr(kSqlitePrefix.size());
  if (path.empty()) {
    throw InputError("Invalid database URI '" + config.uri +
                     "': the SQLite file path is empty. Give one, e.g. sqlite:tasnap.db.");
  }
  return open_sqlite(config, path);
}

std::string redact_uri(std::string_view uri) {
  if (uri.starts_with(kSqlitePrefix)) return std::string(uri);
  if (starts_with_any_scheme(uri)) return redact_postgres_uri(uri);
  if (uri.find('=') != std::string_view::npos) return redact_key_value(uri);

  // An unknown form may still carry a password in URI user info.
  const std::size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  std::string text(uri);
  const std::size_t at = text.rfind('@');
  const std::size_t colon = text.find(':', scheme_end + 3);
  if (at != std::string::npos && colon != std::string::npos && colon < at) {
    text.replace(colon + 1, at - colon - 1, "***");
  }
  return text;
}

}  // namespace tasnap::storage
