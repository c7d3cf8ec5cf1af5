#include "client/jobspec/resources.h"

#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

constexpr uint64_t kMaxCount = std::numeric_limits<uint32_t>::max();

absl::Status Invalid(std::string_view what, std::string_view text, std::string_view option,
                     std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("invalid ", what, " \"", text, "\"",
                                                  internal::OptionSuffix(option), ": ", why));
}

// Names and types of generic resources: letters, digits and _ . - (no blanks, no '=').
bool ValidGresWord(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<NodeRange> ParseNodeRange(std::string_view text, std::string_view option) {
  constexpr std::string_view kWhat = "node count";
  constexpr std::string_view kForm = "use N or MIN-MAX, e.g. 2 or 2-4";
  std::vector<std::string_view> parts = internal::Split(text, '-');
  if (parts.size() > 2) return Invalid(kWhat, text, option, kForm);
  std::optional<uint64_t> min = internal::ParseDigits(parts[0], kMaxCount);
  if (!min) return Invalid(kWhat, text, option, kForm);
  std::optional<uint64_t> max = min;
  if (parts.size() == 2) {
    max = internal::ParseDigits(parts[1], kMaxCount);
    if (!max) return Invalid(kWhat, text, option, kForm);
  }
  if (*min == 0) return Invalid(kWhat, text, option, "a job needs at least 1 node");
  if (*min > *max) {
    return Invalid(kWhat, text, option,
                   internal::Cat("the minimum ", *min, " is more than the maximum ", *max));
  }
  return NodeRange{static_cast<uint32_t>(*min), static_cast<uint32_t>(*max)};
}

absl::StatusOr<uint32_t> ParsePositiveCount(std::string_view text, std::string_view what,
                                            std::string_view option) {
  std::optional<uint64_t> value = internal::ParseDigits(text, kMaxCount);
  if (!value || *value == 0) {
    return Invalid(what, text, option, "use a whole number of at least 1");
  }
  return static_cast<uint32_t>(*value);
}

absl::StatusOr<GpuRequest> ParseGpusPerNode(std::string_view text, std::string_view option) {
  constexpr std::string_view kWhat = "GPU request";
  constexpr std::string_view kForm = "use N or TYPE:N, e.g. 4 or a100:4";
  GpuRequest gpus;
  std::string_view count = text;
  const size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    gpus.type = std::string(text.substr(0, colon));
    count = text.substr(colon + 1);
    if (!ValidGresWord(gpus.type)) return Invalid(kWhat, text, option, kForm);
  }
  std::optional<uint64_t> n = internal::ParseDigits(count, kMaxCount);
  if (!n) return Invalid(kWhat, text, option, kForm);
  gpus.count = static_cast<uint32_t>(*n);
  return gpus;
}

absl::StatusOr<GresRequest> ParseGres(std::string_view text, std::string_view option) {
  constexpr std::string_view kWhat = "generic resource request";
  constexpr std::string_view kForm =
      "use NAME[:TYPE][:COUNT] separated by commas, e.g. gpu:2 or gpu:a100:2,nvme:1";
  GresRequest request;
  if (internal::EqualsIgnoreCase(text, "none")) return request;
  if (text.empty()) return Invalid(kWhat, text, option, kForm);
  uint64_t gpus = 0;
  for (std::string_view entry : internal::Split(text, ',')) {
    if (entry.find('=') != std::string_view::npos) {
      return Invalid(kWhat, text, option, "write the count after a colon, e.g. gpu:2 (not gpu=2)");
    }
    std::vector<std::string_view> fields = internal::Split(entry, ':');
    if (fields.size() > 3) return Invalid(kWhat, text, option, kForm);
    uint64_t count = 1;
    if (fields.size() >= 2 && internal::AllDigits(fields.back())) {
      std::optional<uint64_t> n = internal::ParseDigits(fields.back(), kMaxCount);
      if (!n || *n == 0) {
        return Invalid(kWhat, text, option, "counts are whole numbers of at least 1");
      }
      count = *n;
      fields.pop_back();
    } else if (fields.size() == 3) {
      return Invalid(kWhat, text, option, kForm);  // NAME:TYPE:<not a number>
    }
    for (std::string_view word : fields) {
      if (!ValidGresWord(word)) return Invalid(kWhat, text, option, kForm);
    }
    if (!absl::ascii_isalpha(static_cast<unsigned char>(fields[0][0]))) {
      return Invalid(kWhat, text, option, "name the resource first, e.g. gpu:2");
    }
    if (internal::EqualsIgnoreCase(fields[0], "gpu")) gpus += count;
  }
  if (gpus > kMaxCount) return Invalid(kWhat, text, option, "too many GPUs");
  request.gres = std::string(text);
  request.gpus = static_cast<uint32_t>(gpus);
  return request;
}

absl::StatusOr<int32_t> ParsePriority(std::string_view text, std::string_view option) {
  constexpr std::string_view kWhat = "priority";
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  const uint64_t max = negative ? uint64_t{1} << 31 : std::numeric_limits<int32_t>::max();
  std::optional<uint64_t> value = internal::ParseDigits(digits, max);
  if (!value) {
    return Invalid(kWhat, text, option,
                   internal::Cat("use a whole number from ", std::numeric_limits<int32_t>::min(),
                                 " to ", std::numeric_limits<int32_t>::max()));
  }
  return negative ? static_cast<int32_t>(-static_cast<int64_t>(*value))
                  : static_cast<int32_t>(*value);
}

}  // namespace drocc::client
