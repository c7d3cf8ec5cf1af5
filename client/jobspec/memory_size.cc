#include "client/jobspec/memory_size.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

absl::Status Invalid(std::string_view text, std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("invalid memory size \"", text, "\"",
                                                  internal::OptionSuffix(option), ": ", why));
}

constexpr std::string_view kHelp =
    "use a whole number with an optional K, M, G or T suffix (e.g. 4G or 500M; no suffix means "
    "M)";

}  // namespace

absl::StatusOr<uint64_t> ParseMemoryMb(std::string_view text, std::string_view option) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        internal::Cat("empty memory size", internal::OptionSuffix(option), ": ", kHelp));
  }
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0) return Invalid(text, option, kHelp);
  std::string_view suffix = text.substr(digits);
  if (!suffix.empty() && suffix.front() == '.') {
    return Invalid(text, option, "Slurm takes whole numbers only; use a smaller unit (e.g. 1536M)");
  }
  // Slurm accepts an optional trailing B after the unit letter ("4GB").
  if (suffix.size() == 2 && (suffix[1] == 'B' || suffix[1] == 'b')) suffix.remove_suffix(1);
  if (suffix.size() > 1) return Invalid(text, option, kHelp);

  // Shift of the unit relative to MiB, in powers of 1024; K is handled by rounding up.
  int shift = 0;
  bool kib = false;
  if (!suffix.empty()) {
    switch (absl::ascii_toupper(static_cast<unsigned char>(suffix[0]))) {
      case 'K':
        kib = true;
        break;
      case 'M':
        break;
      case 'G':
        shift = 10;
        break;
      case 'T':
        shift = 20;
        break;
      default:
        return Invalid(text, option, kHelp);
    }
  }

  constexpr uint64_t kMaxMb = uint64_t{1} << 44;  // 16 EiB in MiB: beyond any machine
  const uint64_t limit = kib ? (kMaxMb << 10) : (kMaxMb >> shift);
  std::optional<uint64_t> value = internal::ParseDigits(text.substr(0, digits), limit);
  if (!value) return Invalid(text, option, "too large");
  if (kib) return (*value + 1023) / 1024;
  return *value << shift;
}

}  // namespace drocc::client
