#include "daemon/slurm/scheduler_backend.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace drocc::slurm {
namespace {
constexpr char kCommentPrefix[] = "drocc:";
constexpr size_t kCommentPrefixSize = sizeof(kCommentPrefix) - 1;
}  // namespace

bool IsValidInstance(std::string_view instance) {
  if (instance.empty() || instance.size() > kMaxInstanceSize) return false;
  for (char c : instance) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string DroccComment(queue::JobId id, std::string_view instance) {
  if (instance.empty()) return absl::StrCat(kCommentPrefix, id);
  return absl::StrCat(kCommentPrefix, id, "@", std::string(instance));
}

std::optional<DroccTag> ParseDroccComment(std::string_view comment) {
  if (!comment.starts_with(kCommentPrefix)) return std::nullopt;
  std::string_view rest = comment.substr(kCommentPrefixSize);
  DroccTag tag;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    if (!IsValidInstance(rest.substr(at + 1))) return std::nullopt;
    tag.instance = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  // Canonical form only, as DroccComment writes it: no leading zero, hence no id 0.
  if (rest.empty() || rest.front() == '0') return std::nullopt;
  for (char c : rest) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), tag.id);
  if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
  return tag;
}

}  // namespace drocc::slurm
