#include "daemon/api/user_path.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace drocc::api {
namespace {

// The path as it may be shown: escaped and cut, so a hostile one stays one short line.
std::string Shown(absl::string_view path) {
  constexpr size_t kShown = 120;
  return absl::StrCat("\"", absl::CHexEscape(path.substr(0, kShown)),
                      path.size() > kShown ? "...\"" : "\"");
}

}  // namespace

absl::Status CheckUserPath(absl::string_view field, absl::string_view path) {
  if (path.find('\0') != absl::string_view::npos || path.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", Shown(path), " contains a NUL or newline character; paths may not"));
  }
  if (HasDotDot(path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", Shown(path),
        " has a \"..\" component; give the path without \"..\" (drocc submit turns relative "
        "paths into absolute ones for you)"));
  }
  return absl::OkStatus();
}

}  // namespace drocc::api
