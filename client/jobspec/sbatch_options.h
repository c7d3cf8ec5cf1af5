#pragma once

// The table of sbatch's options (Slurm 22.05) and what drocc does with each, plus the scanner
// that reads sbatch-style arguments against it, the way sbatch's getopt_long would: exact
// names, unambiguous abbreviations of long names, -Xvalue / -X value / --x=value / --x value.
// Internal to drocc_jobspec; submit_flags.h and resolve.h are the public face.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/jobspec/submit_flags.h"

namespace drocc::client::internal {

enum class OptionUse {
  kSupported,    // becomes part of the JobRequest
  kIgnored,      // accepted so that scripts run unchanged, without effect; a warning says so
  kUnsupported,  // an sbatch option drocc refuses, saying what to do instead
};

struct SbatchOption {
  char short_name;             // '\0' if none
  std::string_view long_name;  // without "--"
  bool takes_value;
  OptionUse use;
  // kSupported: where the value goes (nullptr for the --parsable flag).
  std::optional<std::string> SubmitFlags::*field;
  // kSupported: the value's name and help text. kIgnored: why it has no effect.
  // kUnsupported: what to do instead.
  std::string_view value_name;
  std::string_view note;
};

std::span<const SbatchOption> SbatchOptions();

// "-t/--time", or "--mem" for options without a short name.
std::string OptionLabel(const SbatchOption& option);

// One argument and where it came from: line 0 = the command line, else a script line.
struct ArgToken {
  std::string text;
  int line = 0;
};

// "in script line N: " for a script line, "" for the command line.
std::string Where(int line);

struct ScannedOption {
  const SbatchOption* option;
  std::string value;  // "" for flags
  int line;
};

struct ScannedArgs {
  std::vector<ScannedOption> options;  // in order
  // Index of the first non-option argument (SCRIPT); nullopt when there is none.
  std::optional<size_t> first_positional;
};

// Reads `tokens` up to the first non-option argument (or up to "--", which ends the options as
// with getopt). When `allow_positional` is false (#SBATCH lines), a non-option argument is an
// error, as in sbatch. Errors are one line,
// prefixed with Where(line) of the offending token.
absl::StatusOr<ScannedArgs> ScanSubmitArgs(std::span<const ArgToken> tokens, bool allow_positional);

// The scanned options as SubmitFlags (script and script_args left empty), stored through a
// fresh CLI11 app set up by AddSubmitFlags, so that both paths assign values by the same rules.
absl::StatusOr<SubmitFlags> ApplyScannedOptions(const ScannedArgs& scanned);

}  // namespace drocc::client::internal
