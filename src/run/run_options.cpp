#include "run/run_options.hpp"

#include <fstream>

#include "core/errors.hpp"

namespace tasnap::run {

namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

std::vector<std::string> read_tickers_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    throw InputError("Cannot open the tickers file '" + path + "'. Check the path given to --tickers-file.");
  }

  std::vector<std::string> tickers;
  std::string line;
  while (std::getline(file, line)) {
    std::string ticker = trim(line);
    if (ticker.empty() || ticker.front() == '#') continue;
    tickers.push_back(std::move(ticker));
  }
  if (tickers.empty()) {
    throw InputError("The tickers file '" + path + "' lists no ticker. Put one ticker per line.");
  }
  return tickers;
}

std::vector<std::string> split_tickers(const std::string& list) {
  std::vector<std::string> tickers;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    std::string ticker = trim(std::string_view(list).substr(start, comma - start));
    if (ticker.empty()) {
      throw InputError("Invalid --tickers value '" + list +
                       "': it has an empty item. Give tickers separated by commas, e.g. AAPL,BRK.B.");
    }
    tickers.push_back(std::move(ticker));
    start = comma + 1;
  }
  return tickers;
}

}  // namespace tasnap::run
