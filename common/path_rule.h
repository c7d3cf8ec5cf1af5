#pragma once

// The one lexical rule for paths that come from outside (users' job paths, an admin's backup
// file): no ".." component.

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace drocc {

// True when `path` has a ".." component ("..", "../x", "a/../b", "a/..").
inline bool HasDotDot(absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace drocc
