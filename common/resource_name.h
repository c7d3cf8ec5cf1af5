#pragma once

// The one rule for the name of a resource a project is charged in ("gpu-hours", a site's
// billing unit such as "su"): droccd's configuration checks it when it reads the file, the
// quota catalog when it is built.

#include <algorithm>
#include <cctype>
#include <string_view>

namespace drocc {

inline constexpr size_t kMaxResourceNameLength = 32;

// A letter, then letters, digits, '-' or '_'; at most kMaxResourceNameLength characters.
inline bool IsResourceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxResourceNameLength ||
      !std::isalpha(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace drocc
