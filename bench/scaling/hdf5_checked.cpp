#include "scaling/hdf5_checked.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace tasnap::scaling {

namespace {

struct StackText {
  hid_t stack = H5I_INVALID_HID;
  std::string text;
};

herr_t append_stack_entry(unsigned /*depth*/, const H5E_error2_t* entry, void* data) {
  auto* stack_text = static_cast<StackText*>(data);
  if (!stack_text->text.empty()) stack_text->text += "; ";
  stack_text->text += entry->func_name;
  stack_text->text += ": ";
  stack_text->text += entry->desc ? entry->desc : "";

  // The minor message names the cause class, e.g. "unable to open file".
  char minor[128] = {};
  if (H5Eget_msg(entry->min_num, nullptr, minor, sizeof minor) > 0) {
    stack_text->text += " (";
    stack_text->text += minor;
    stack_text->text += ")";
  }
  return 0;
}

[[noreturn]] void throw_hdf5_error(std::string_view operation, std::string_view path) {
  std::string message = "HDF5 " + std::string(operation) + " failed on '" + std::string(path) + "'";
  const std::string stack = take_hdf5_error_stack();
  message += stack.empty() ? "." : ": " + stack + ".";
  throw Hdf5Error(message);
}

}  // namespace

std::string take_hdf5_error_stack() {
  // Copy the stack first: H5Eget_msg is an API call that may reset the live one.
  StackText stack_text;
  stack_text.stack = H5Eget_current_stack();
  if (stack_text.stack < 0) return "";
  H5Ewalk2(stack_text.stack, H5E_WALK_DOWNWARD, append_stack_entry, &stack_text);
  H5Eclose_stack(stack_text.stack);
  return stack_text.text;
}

hid_t checked_id(hid_t id, std::string_view operation, std::string_view path) {
  if (id < 0) throw_hdf5_error(operation, path);
  return id;
}

void check_status(herr_t status, std::string_view operation, std::string_view path) {
  if (status < 0) throw_hdf5_error(operation, path);
}

bool checked_bool(htri_t value, std::string_view operation, std::string_view path) {
  if (value < 0) throw_hdf5_error(operation, path);
  return value > 0;
}

ScopedErrorMute::ScopedErrorMute() {
  H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

ScopedErrorMute::~ScopedErrorMute() { H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_); }

Hid::Hid(hid_t id, Closer closer, std::string_view operation, std::string_view path)
    : id_(checked_id(id, operation, path)), closer_(closer), path_(path) {}

Hid::~Hid() {
  if (id_ < 0) return;
  ScopedErrorMute mute;
  if (closer_(id_) < 0) {
    spdlog::error("HDF5 close failed on '{}' during cleanup: {}", path_, take_hdf5_error_stack());
  }
}

Hid::Hid(Hid&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_), path_(std::move(other.path_)) {}

Hid& Hid::operator=(Hid&& other) noexcept {
  if (this != &other) {
    Hid discarded(std::move(*this));
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = other.closer_;
    path_ = std::move(other.path_);
  }
  return *this;
}

void Hid::close() {
  if (id_ < 0) return;
  const hid_t id = std::exchange(id_, H5I_INVALID_HID);
  check_status(closer_(id), "close", path_);
}

}  // namespace tasnap::scaling
