#include "scaling_test_hdf5.hpp"

#include <algorithm>

namespace tasnap::testing {

namespace {

using scaling::check_status;
using scaling::Hid;

Hid open_attribute(hid_t file, const std::string& object, const std::string& name) {
  return Hid(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
             "open attribute", object + "@" + name);
}

Hid open_dataset(hid_t file, const std::string& path) {
  return Hid(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "open dataset", path);
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::size_t element_count(hid_t dataset, const std::string& path) {
  Hid space(H5Dget_space(dataset), H5Sclose, "get dataspace", path);
  return static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
}

}  // namespace

Hdf5Reader::Hdf5Reader(const std::filesystem::path& path)
    : file_(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open file read-only", path.string()) {}

bool Hdf5Reader::exists(const std::string& path) const {
  scaling::ScopedErrorMute mute;
  return H5Lexists(file_.get(), path.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> Hdf5Reader::children(const std::string& path) const {
  Hid group(H5Gopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Gclose, "open group", path);
  std::vector<std::string> names;
  check_status(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names), "iterate",
               path);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Hdf5Reader::text_attribute(const std::string& object, const std::string& name) const {
  Hid attribute = open_attribute(file_.get(), object, name);
  Hid type(H5Aget_type(attribute.get()), H5Tclose, "get type", name);
  char* text = nullptr;
  check_status(H5Aread(attribute.get(), type.get(), &text), "read attribute", object + "@" + name);
  std::string value = text ? text : "";
  H5free_memory(text);
  return value;
}

std::int64_t Hdf5Reader::integer_attribute(const std::string& object, const std::string& name) const {
  Hid attribute = open_attribute(file_.get(), object, name);
  std::int64_t value = 0;
  check_status(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), "read attribute", object + "@" + name);
  return value;
}

std::vector<std::int64_t> Hdf5Reader::integer_list_attribute(const std::string& object,
                                                             const std::string& name) const {
  Hid attribute = open_attribute(file_.get(), object, name);
  Hid space(H5Aget_space(attribute.get()), H5Sclose, "get dataspace", name);
  std::vector<std::int64_t> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  check_status(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()), "read attribute", object + "@" + name);
  return values;
}

std::vector<hsize_t> Hdf5Reader::dims(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  Hid space(H5Dget_space(data.get()), H5Sclose, "get dataspace", dataset);
  std::vector<hsize_t> current(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.get())));
  H5Sget_simple_extent_dims(space.get(), current.data(), nullptr);
  return current;
}

std::vector<hsize_t> Hdf5Reader::max_dims(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  Hid space(H5Dget_space(data.get()), H5Sclose, "get dataspace", dataset);
  std::vector<hsize_t> maximum(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.get())));
  H5Sget_simple_extent_dims(space.get(), nullptr, maximum.data());
  return maximum;
}

bool Hdf5Reader::is_chunked(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  Hid properties(H5Dget_create_plist(data.get()), H5Pclose, "get creation properties", dataset);
  return H5Pget_layout(properties.get()) == H5D_CHUNKED;
}

std::vector<double> Hdf5Reader::doubles(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  std::vector<double> values(element_count(data.get(), dataset));
  if (!values.empty()) {
    check_status(H5Dread(data.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "read",
                 dataset);
  }
  return values;
}

std::vector<std::int64_t> Hdf5Reader::integers(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  std::vector<std::int64_t> values(element_count(data.get(), dataset));
  if (!values.empty()) {
    check_status(H5Dread(data.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "read",
                 dataset);
  }
  return values;
}

std::vector<std::string> Hdf5Reader::texts(const std::string& dataset) const {
  Hid data = open_dataset(file_.get(), dataset);
  Hid type(H5Dget_type(data.get()), H5Tclose, "get type", dataset);
  Hid space(H5Dget_space(data.get()), H5Sclose, "get dataspace", dataset);
  std::vector<char*> raw(element_count(data.get(), dataset), nullptr);
  std::vector<std::string> values;
  if (raw.empty()) return values;
  check_status(H5Dread(data.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "read", dataset);
  for (char* text : raw) values.emplace_back(text ? text : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  return values;
}

}  // namespace tasnap::testing
