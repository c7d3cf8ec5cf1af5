#include "client/jobspec/slurm_time.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

constexpr std::string_view kFormats =
    "use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (or UNLIMITED)";

absl::Status Invalid(std::string_view text, std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("invalid time limit \"", text, "\"",
                                                  internal::OptionSuffix(option), ": ", why));
}

// Fields of one part ("H:M:S" etc.), each digits only. Values are capped well above any
// accepted total so that the sum below cannot overflow.
bool ParseFields(std::string_view part, std::vector<int64_t>& out) {
  constexpr uint64_t kFieldMax = uint64_t{1} << 40;
  for (std::string_view field : internal::Split(part, ':')) {
    std::optional<uint64_t> value = internal::ParseDigits(field, kFieldMax);
    if (!value) return false;
    out.push_back(static_cast<int64_t>(*value));
  }
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseSlurmTime(std::string_view text, std::string_view option) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        internal::Cat("empty time limit", internal::OptionSuffix(option), ": ", kFormats));
  }
  if (internal::EqualsIgnoreCase(text, "UNLIMITED") ||
      internal::EqualsIgnoreCase(text, "INFINITE")) {
    return kUnlimitedTime;
  }
  if (text.front() == '-') {
    return Invalid(text, option, "a time limit cannot be negative (for no limit say UNLIMITED)");
  }

  int64_t days = 0;
  std::string_view clock = text;
  const size_t dash = text.find('-');
  const bool has_days = dash != std::string_view::npos;
  if (has_days) {
    std::optional<uint64_t> d = internal::ParseDigits(text.substr(0, dash), uint64_t{1} << 40);
    if (!d) return Invalid(text, option, kFormats);
    days = static_cast<int64_t>(*d);
    clock = text.substr(dash + 1);
  }

  std::vector<int64_t> f;
  if (!ParseFields(clock, f)) return Invalid(text, option, kFormats);
  int64_t seconds = 0;
  if (has_days) {
    // D-H, D-H:M, D-H:M:S
    if (f.size() > 3) return Invalid(text, option, kFormats);
    seconds = days * 86400 + f[0] * 3600;
    if (f.size() >= 2) seconds += f[1] * 60;
    if (f.size() == 3) seconds += f[2];
  } else if (f.size() == 1) {
    seconds = f[0] * 60;  // M
  } else if (f.size() == 2) {
    seconds = f[0] * 60 + f[1];  // M:S
  } else if (f.size() == 3) {
    seconds = f[0] * 3600 + f[1] * 60 + f[2];  // H:M:S
  } else {
    return Invalid(text, option, kFormats);
  }

  if (seconds > kMaxTimeLimitSeconds) {
    return Invalid(text, option,
                   internal::Cat("too long; the most Slurm can hold is ",
                                 FormatSlurmTime(kMaxTimeLimitSeconds), ", or say UNLIMITED"));
  }
  if (seconds == 0) {
    return absl::InvalidArgumentError(internal::Cat(
        "time limit \"", text, "\"", internal::OptionSuffix(option),
        " is zero, which sbatch reads as no limit: give a real limit (e.g. 2:00:00) or UNLIMITED"));
  }
  return seconds;
}

std::string FormatSlurmTime(int64_t seconds) {
  if (seconds == kUnlimitedTime) return "UNLIMITED";
  if (seconds < 0) return "INVALID";
  const int64_t days = seconds / 86400;
  const int64_t hours = (seconds / 3600) % 24;
  const int64_t minutes = (seconds / 60) % 60;
  const int64_t secs = seconds % 60;
  if (days > 0) return absl::StrFormat("%d-%02d:%02d:%02d", days, hours, minutes, secs);
  return absl::StrFormat("%02d:%02d:%02d", hours, minutes, secs);
}

}  // namespace drocc::client
