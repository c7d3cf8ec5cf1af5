// Fuzzes the sbatch -t/--time parser (client/jobspec/slurm_time.h). Besides not crashing:
// a parsed limit is UNLIMITED or in [1, kMaxTimeLimitSeconds], every error is
// InvalidArgument naming the option, and formatting a limit then parsing it gives it back.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/jobspec/slurm_time.h"
#include "tests/fuzz/fuzz_check.h"

namespace drocc::client {
namespace {

void CheckRoundTrip(int64_t seconds) {
  const std::string text = FormatSlurmTime(seconds);
  const absl::StatusOr<int64_t> again = ParseSlurmTime(text);
  DROCC_FUZZ_CHECK(again.ok() && *again == seconds,
                   absl::StrCat(seconds, " formats as \"", text, "\", which parses as ",
                                again.ok() ? absl::StrCat(*again) : again.status().ToString()));
}

}  // namespace
}  // namespace drocc::client

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drocc::client;
  const std::string_view text = drocc::fuzz::AsText(data, size);
  const absl::StatusOr<int64_t> seconds = ParseSlurmTime(text, "-t/--time");
  if (!seconds.ok()) {
    DROCC_FUZZ_CHECK(absl::IsInvalidArgument(seconds.status()), seconds.status().ToString());
    DROCC_FUZZ_CHECK(absl::StrContains(seconds.status().message(), "(-t/--time)"),
                     absl::StrCat("error does not name the option: ", seconds.status().message()));
  } else if (*seconds == kUnlimitedTime) {
    DROCC_FUZZ_CHECK(FormatSlurmTime(*seconds) == "UNLIMITED", FormatSlurmTime(*seconds));
  } else {
    DROCC_FUZZ_CHECK(*seconds >= 1 && *seconds <= kMaxTimeLimitSeconds,
                     absl::StrCat("\"", std::string(text), "\" parsed as ", *seconds, " s"));
    CheckRoundTrip(*seconds);
  }
  // Any 8 bytes as a number of seconds: formatting never fails, and every value the parser
  // may return formats to text that parses back to it.
  if (size >= sizeof(int64_t)) {
    int64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    const std::string formatted = FormatSlurmTime(raw);
    DROCC_FUZZ_CHECK(!formatted.empty(), absl::StrCat(raw));
    if (raw >= 1 && raw <= kMaxTimeLimitSeconds) CheckRoundTrip(raw);
    if (raw > kMaxTimeLimitSeconds) CheckRoundTrip(raw % kMaxTimeLimitSeconds + 1);
  }
  return 0;
}
