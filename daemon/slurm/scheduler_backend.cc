#include "daemon/slurm/scheduler_backend.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace drocc::slurm {
namespace {
constexpr char kCommentPrefix[] = "drocc:";
constexpr size_t kCommentPrefixSize = sizeof(kCommentPrefix) - 1;
}  // namespace

std::string DroccComment(queue::JobId id) { return absl::StrCat(kCommentPrefix, id); }

std::optional<queue::JobId> ParseDroccComment(std::string_view comment) {
  if (!comment.starts_with(kCommentPrefix)) return std::nullopt;
  std::string_view digits = comment.substr(kCommentPrefixSize);
  // Canonical form only, as DroccComment writes it: no leading zero, hence no id 0.
  if (digits.empty() || digits.front() == '0') return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  queue::JobId id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

}  // namespace drocc::slurm
