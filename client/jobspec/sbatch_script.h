#pragma once

// Batch-script text: the sanity checks sbatch makes before submitting, and the #SBATCH
// directives it reads. Pure functions over the script's text; reading the file is the caller's.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace drocc::client {

// The largest script accepted: Slurm's default MaxScriptSize (4 MiB).
inline constexpr size_t kMaxScriptBytes = 4 * 1024 * 1024;

// The error for a script of `bytes` bytes when that is more than kMaxScriptBytes, else OK.
// Lets a file reader refuse a huge file before reading it, with the same message.
absl::Status CheckScriptSize(size_t bytes, std::string_view name);

// The checks sbatch makes, in its order, with `name` (e.g. the path as typed) in the messages:
// not larger than kMaxScriptBytes, not empty, not only whitespace, starts with "#!", contains
// no NUL byte (slurmctld refuses them), and has no DOS line ends: sbatch refuses "\r\n" because
// the job would die with "/bin/bash^M: bad interpreter"; the message says to run dos2unix.
absl::Status CheckBatchScript(std::string_view script, std::string_view name);

// The arguments of one #SBATCH line.
struct SbatchDirective {
  int line = 0;                   // 1-based line number in the script
  std::vector<std::string> args;  // tokens, quotes removed
};

// Reads #SBATCH lines with sbatch's rules (Slurm's _opt_batch_script / _get_argument):
//  - the first line must start with "#!", else an error: "<name> does not start with #! (a
//    batch script needs an interpreter line, e.g. #!/bin/bash)";
//  - a directive is a line starting at column 0 with "#SBATCH" followed by a blank or the end
//    of the line; "# SBATCH", "##SBATCH" and " #SBATCH" are comments. (sbatch also reads
//    "#SBATCHxyz" as a directive with argument "xyz"; drocc treats it as a comment.)
//  - reading stops at the first line that is neither blank nor a comment (first non-blank
//    character '#'); #SBATCH lines after the first command are ignored, as in sbatch;
//  - arguments are split on blanks; "..." and '...' group (quotes removed, blanks kept);
//    a backslash makes the next character literal (also inside quotes); an unquoted,
//    unescaped '#' ends the line's arguments, even inside a word ("-o run#1" gives "-o run"),
//    exactly as sbatch does; "" gives an empty argument (sbatch would stop the line there);
//  - an unmatched quote is an error: "in script line N: unmatched \" in #SBATCH directive ...";
//  - a line ending "\r\n" is read without its "\r" (CheckBatchScript refuses such scripts,
//    but extraction alone tolerates them).
// Lines whose directive has no arguments ("#SBATCH") are left out.
absl::StatusOr<std::vector<SbatchDirective>> ExtractSbatchDirectiveLines(
    std::string_view script, std::string_view name = "the script");

// The same tokens, all lines flattened in order (what sbatch hands to its option parser).
absl::StatusOr<std::vector<std::string>> ExtractSbatchDirectives(
    std::string_view script, std::string_view name = "the script");

}  // namespace drocc::client
