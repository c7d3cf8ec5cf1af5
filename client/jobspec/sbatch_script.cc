#include "client/jobspec/sbatch_script.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

constexpr std::string_view kMagic = "#SBATCH";

bool IsBlank(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

// Splits one directive's text into arguments with sbatch's _get_argument rules.
absl::StatusOr<std::vector<std::string>> SplitDirective(std::string_view text, int line) {
  std::vector<std::string> args;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsBlank(text[i])) ++i;
    if (i >= text.size() || text[i] == '#') return args;  // end, or a trailing comment
    std::string arg;
    char quote = '\0';
    bool escape = false;
    bool comment = false;
    // Mirrors _get_argument: the blank test comes first, so "\ " does not escape a blank.
    while (i < text.size() && (quote != '\0' || !IsBlank(text[i]))) {
      const char c = text[i];
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
        ++i;
        continue;
      } else if (quote != '\0') {
        if (c == quote) {
          quote = '\0';
          ++i;
          continue;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        ++i;
        continue;
      } else if (c == '#') {
        comment = true;  // sbatch: "found an un-escaped #, rest of line is a comment"
        break;
      }
      arg.push_back(c);
      ++i;
    }
    if (quote != '\0') {
      return absl::InvalidArgumentError(internal::Cat("in script line ", line, ": unmatched ",
                                                      quote,
                                                      " in #SBATCH directive: close the quote"));
    }
    args.push_back(std::move(arg));
    if (comment) return args;
  }
}

// Is this line, after "#SBATCH", a directive? The magic word must be followed by a blank or
// the end of the line.
bool IsDirective(std::string_view line) {
  if (!std::string_view(line).starts_with(kMagic)) return false;
  return line.size() == kMagic.size() || IsBlank(line[kMagic.size()]);
}

// A line that stops directive parsing: anything but blanks and comments.
bool IsCommand(std::string_view line) {
  for (char c : line) {
    if (IsBlank(c)) continue;
    return c != '#';
  }
  return false;
}

}  // namespace

absl::Status CheckScriptSize(size_t bytes, std::string_view name) {
  if (bytes <= kMaxScriptBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(internal::Cat(
      name, " is ", absl::StrFormat("%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0)),
      " MiB; Slurm accepts batch scripts up to 4 MiB: move data out of the script "
      "into files it reads"));
}

absl::Status CheckBatchScript(std::string_view script, std::string_view name) {
  if (absl::Status size = CheckScriptSize(script.size(), name); !size.ok()) return size;
  if (script.empty()) {
    return absl::InvalidArgumentError(internal::Cat(name,
                                                    " is empty: a batch script needs at "
                                                    "least an interpreter line and a command"));
  }
  bool only_blanks = true;
  for (char c : script) only_blanks = only_blanks && IsBlank(c);
  if (only_blanks) {
    return absl::InvalidArgumentError(internal::Cat(
        name, " contains only whitespace: a batch script needs an interpreter line and a command"));
  }
  if (!std::string_view(script).starts_with("#!")) {
    return absl::InvalidArgumentError(internal::Cat(
        name,
        " does not start with #! (a batch script needs an interpreter line, e.g. #!/bin/bash)"));
  }
  if (script.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(internal::Cat(
        name, " contains a NUL byte, which Slurm refuses: give a text script, not a binary"));
  }
  if (script.find("\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        internal::Cat(name,
                      " has DOS line ends (\\r\\n), which Slurm refuses: convert it with "
                      "dos2unix ",
                      name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SbatchDirective>> ExtractSbatchDirectiveLines(std::string_view script,
                                                                         std::string_view name) {
  if (!std::string_view(script).starts_with("#!")) {
    return absl::InvalidArgumentError(internal::Cat(
        name,
        " does not start with #! (a batch script needs an interpreter line, e.g. #!/bin/bash)"));
  }
  std::vector<SbatchDirective> directives;
  int number = 0;
  size_t start = 0;
  while (start < script.size()) {
    size_t end = script.find('\n', start);
    if (end == std::string_view::npos) end = script.size();
    std::string_view line = script.substr(start, end - start);
    start = end + 1;
    ++number;
    if (std::string_view(line).ends_with("\r")) line.remove_suffix(1);

    if (IsDirective(line)) {
      absl::StatusOr<std::vector<std::string>> args =
          SplitDirective(line.substr(kMagic.size()), number);
      if (!args.ok()) return args.status();
      if (!args->empty()) directives.push_back({number, *std::move(args)});
    } else if (IsCommand(line)) {
      break;
    }
  }
  return directives;
}

absl::StatusOr<std::vector<std::string>> ExtractSbatchDirectives(std::string_view script,
                                                                 std::string_view name) {
  absl::StatusOr<std::vector<SbatchDirective>> lines = ExtractSbatchDirectiveLines(script, name);
  if (!lines.ok()) return lines.status();
  std::vector<std::string> tokens;
  for (SbatchDirective& d : *lines) {
    for (std::string& arg : d.args) tokens.push_back(std::move(arg));
  }
  return tokens;
}

}  // namespace drocc::client
