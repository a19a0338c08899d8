#include "core/date.hpp"

#include <chrono>
#include <cstdio>

#include "core/errors.hpp"

namespace tasnap {

namespace {

bool parse_digits(std::string_view text, int& value) {
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::optional<Date> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;

  int year = 0;
  int month = 0;
  int day = 0;
  if (!parse_digits(text.substr(0, 4), year) || !parse_digits(text.substr(5, 2), month) ||
      !parse_digits(text.substr(8, 2), day)) {
    return std::nullopt;
  }

  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return Date{static_cast<std::int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

Date parse_date_or_throw(std::string_view text, std::string_view field) {
  if (const auto date = parse_date(text)) return *date;
  throw InputError("Invalid date for " + std::string(field) + ": '" + std::string(text) +
                   "'. Expected a calendar date in the form YYYY-MM-DD, e.g. 2021-04-21.");
}

Date make_date(int year, unsigned month, unsigned day) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  return Date{static_cast<std::int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

std::string format_date(Date date) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{date.days}}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

int year_of(Date date) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{date.days}}};
  return static_cast<int>(ymd.year());
}

int weekday_of(Date date) {
  const std::chrono::weekday weekday{std::chrono::sys_days{std::chrono::days{date.days}}};
  return static_cast<int>(weekday.iso_encoding()) - 1;
}

}  // namespace tasnap
