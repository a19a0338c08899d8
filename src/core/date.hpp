// Calendar dates as day numbers, and their ISO 8601 text form.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tasnap {

// A calendar date as the number of days since 1970-01-01 (proleptic Gregorian).
struct Date {
  std::int32_t days = 0;

  auto operator<=>(const Date&) const = default;
};

// Parses "YYYY-MM-DD" strictly (exactly ten characters, a real calendar day).
// Returns nullopt for anything else.
std::optional<Date> parse_date(std::string_view text);

// Parses "YYYY-MM-DD" or throws InputError naming the flag or field and the value.
Date parse_date_or_throw(std::string_view text, std::string_view field);

std::string format_date(Date date);

Date make_date(int year, unsigned month, unsigned day);

int year_of(Date date);

// 0 = Monday ... 6 = Sunday.
int weekday_of(Date date);

}  // namespace tasnap
