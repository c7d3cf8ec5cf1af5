#include "daemon/slurm/filename_pattern.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_format.h"

namespace drocc::slurm {
namespace {

// What slurmstepd 22.05 substitutes for the batch step of a job that is not part of an
// array (checked on the dev cluster): NO_VAL for the array task id, "batch" for the step
// id, no step suffix for %J, and node 0 / task 0 since the script runs once, on the first
// node.
constexpr uint64_t kNoArrayTask = 0xfffffffe;
constexpr unsigned kMaxWidth = 10;

std::string Padded(uint64_t value, unsigned width) {
  return absl::StrFormat("%0*u", static_cast<int>(width), value);
}

// Slurm's remove_path_slashes(): "\\" is one literal backslash, a single one is dropped.
std::string RemoveBackslashes(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    }
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value of one replacement symbol, or false if `symbol` is not one.
bool Substitute(char symbol, unsigned width, const OutputPatternValues& v, std::string& out) {
  switch (symbol) {
    case 'A':
    case 'j':
    case 'J':
      out += Padded(v.slurm_job_id, width);
      return true;
    case 'a':
      out += Padded(kNoArrayTask, width);
      return true;
    case 's':
      out += "batch";
      return true;
    case 'n':
    case 't':
      out += Padded(0, width);
      return true;
    case 'N':
      out += v.node;
      return true;
    case 'u':
      out += v.user;
      return true;
    case 'x':
      out += v.job_name;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string ExpandOutputPattern(std::string_view pattern, const OutputPatternValues& v) {
  const bool absolute = pattern.starts_with('/');
  std::string out;
  if (!absolute) out = v.workdir;

  if (pattern.find('\\') != std::string_view::npos) {
    // No expansion at all. Slurm appends the unescaped name to the work dir without a
    // separator in this case (fname_create); we do the same, since we must find the file
    // where slurmstepd put it.
    out += RemoveBackslashes(pattern);
    return out;
  }
  if (!absolute && !out.empty() && out.back() != '/') out.push_back('/');

  // A literal run pattern[lit, i) is copied when a symbol or the end is reached. The loop
  // mirrors slurmstepd's, including what it does with odd input ("%5" at the end keeps
  // the "5", "%5z" keeps "5z", an unknown "%z" is kept whole).
  size_t lit = 0;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '%') {
      ++i;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out.append(pattern.substr(lit, i + 1 - lit));  // up to and including one '%'
      i += 2;
      lit = i;
      continue;
    }
    const size_t percent = i++;
    unsigned width = 0;
    if (i < pattern.size() && IsDigit(pattern[i])) {
      out.append(pattern.substr(lit, percent - lit));
      uint64_t n = 0;
      while (i < pattern.size() && IsDigit(pattern[i])) {
        n = std::min<uint64_t>(n * 10 + (pattern[i] - '0'), std::numeric_limits<uint32_t>::max());
        ++i;
      }
      width = static_cast<unsigned>(std::min<uint64_t>(n, kMaxWidth));
      lit = i - 1;  // Slurm keeps the last digit as pending literal text
      if (i == pattern.size()) break;
    }
    std::string value;
    if (Substitute(pattern[i], width, v, value)) {
      // Text before the '%' (nothing more after a width: it was copied above).
      out.append(pattern.substr(lit, i - 1 - lit));
      out += value;
      lit = ++i;
    }
  }
  if (lit < pattern.size()) out.append(pattern.substr(lit));
  return out;
}

std::string FirstNodeName(std::string_view nodelist) {
  std::string out;
  bool in_range = false;  // inside "[...]": keep the first number only
  bool skipping = false;  // past the first number of the current range
  for (char c : nodelist) {
    if (!in_range && c == ',') break;
    if (c == '[') {
      in_range = true;
      skipping = false;
    } else if (c == ']') {
      in_range = false;
    } else if (!in_range) {
      out.push_back(c);
    } else if (c == '-' || c == ',') {
      skipping = true;
    } else if (!skipping) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace drocc::slurm
