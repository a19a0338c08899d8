// Reading back the scaling HDF5 file with the HDF5 C API, independently of the
// writer's code paths, for field-by-field checks in the scaling tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scaling/hdf5_checked.hpp"

namespace tasnap::testing {

class Hdf5Reader {
 public:
  explicit Hdf5Reader(const std::filesystem::path& path);

  bool exists(const std::string& path) const;
  // Names of the links in group `path`, sorted.
  std::vector<std::string> children(const std::string& path) const;

  std::string text_attribute(const std::string& object, const std::string& name) const;
  std::int64_t integer_attribute(const std::string& object, const std::string& name) const;
  std::vector<std::int64_t> integer_list_attribute(const std::string& object, const std::string& name) const;

  // Current and maximum dimensions of a dataset; H5S_UNLIMITED marks an unlimited one.
  std::vector<hsize_t> dims(const std::string& dataset) const;
  std::vector<hsize_t> max_dims(const std::string& dataset) const;
  bool is_chunked(const std::string& dataset) const;

  // Every value, row-major.
  std::vector<double> doubles(const std::string& dataset) const;
  std::vector<std::int64_t> integers(const std::string& dataset) const;
  std::vector<std::string> texts(const std::string& dataset) const;

 private:
  scaling::Hid file_;
};

}  // namespace tasnap::testing
