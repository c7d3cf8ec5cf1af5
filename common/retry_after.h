#pragma once

// The "retry-after-ms" trailing metadata of a RESOURCE_EXHAUSTED answer (the submit rate
// limit): how long the caller should wait before trying again, in whole milliseconds. droccd
// sets it; the CLI reads it. Programs calling the API use it instead of parsing the message.

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace drocc {

inline constexpr char kRetryAfterMetadataKey[] = "retry-after-ms";

// Milliseconds, rounded up so that waiting that long is always enough ("350").
std::string FormatRetryAfter(absl::Duration wait);
// The wait a "retry-after-ms" value stands for; nullopt unless it is a plain decimal number.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value);
// For people: "0.35 s", "12 s".
std::string RetryAfterText(absl::Duration wait);

}  // namespace drocc
