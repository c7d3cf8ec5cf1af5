#include "client/jobspec/open_mode.h"

#include "absl/status/status.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

constexpr std::string_view kAccepted =
    "use append (keep what the output files hold, e.g. from an earlier run of a requeued job) "
    "or truncate (start them empty)";

}  // namespace

absl::StatusOr<std::string> ParseOpenMode(std::string_view text, std::string_view option) {
  const char first = text.empty() ? '\0' : text.front();
  if (first == 'a' || first == 'A') return std::string(kOpenModeAppend);
  if (first == 't' || first == 'T') return std::string(kOpenModeTruncate);
  return absl::InvalidArgumentError(internal::Cat("invalid open mode \"", text, "\"",
                                                  internal::OptionSuffix(option), ": ", kAccepted));
}

}  // namespace drocc::client
