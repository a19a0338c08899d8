// Checked calls into the HDF5 C API. Every failure becomes an Hdf5Error whose
// message names the operation, the object path and the causes on HDF5's error
// stack. Every identifier is owned by an Hid that closes it.
#pragma once

#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace tasnap::scaling {

class Hdf5Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The current thread's HDF5 error stack as one line, outermost call first;
// clears the stack. Empty when HDF5 recorded nothing.
std::string take_hdf5_error_stack();

// Throws Hdf5Error naming `operation` and `path` when an HDF5 call returned a
// negative identifier or status (the C API's failure value for hid_t, herr_t
// and htri_t).
hid_t checked_id(hid_t id, std::string_view operation, std::string_view path);
void check_status(herr_t status, std::string_view operation, std::string_view path);
bool checked_bool(htri_t value, std::string_view operation, std::string_view path);

// Turns off HDF5's automatic printing of the error stack for this scope, for
// calls whose failure is expected and handled (probing a file or a link).
class ScopedErrorMute {
 public:
  ScopedErrorMute();
  ~ScopedErrorMute();
  ScopedErrorMute(const ScopedErrorMute&) = delete;
  ScopedErrorMute& operator=(const ScopedErrorMute&) = delete;

 private:
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

// An owned HDF5 identifier (file, group, dataset, attribute, dataspace, type or
// property list) with the H5?close function that releases it.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);

  Hid() = default;
  // Checks `id` like checked_id, then takes ownership of it.
  Hid(hid_t id, Closer closer, std::string_view operation, std::string_view path);
  ~Hid();
  Hid(Hid&& other) noexcept;
  Hid& operator=(Hid&& other) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;

  hid_t get() const { return id_; }

  // Releases the identifier now, throwing Hdf5Error on failure (closing a file
  // flushes it, so that failure matters). The destructor only logs.
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
  std::string path_;
};

}  // namespace tasnap::scaling
