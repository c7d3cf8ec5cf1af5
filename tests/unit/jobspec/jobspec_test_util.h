#pragma once

// Helpers shared by the jobspec tests: run a command line through CLI11 exactly as the drocc
// CLI does, and a fake file system for ResolveJobRequest.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/jobspec/resolve.h"
#include "client/jobspec/submit_flags.h"

namespace drocc::client::testing {

// A status message as std::string (this abseil's string_view is not std::string_view, and
// gmock's string matchers want a std::string).
inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Parses `drocc submit ARGS...` with a `submit` subcommand set up by AddSubmitFlags.
// CLI11's own parse errors come back as InvalidArgument with CLI11's text.
inline absl::StatusOr<SubmitFlags> ParseCommandLine(const std::vector<std::string>& args) {
  CLI::App app("drocc");
  CLI::App* submit = app.add_subcommand("submit", "submit a batch script");
  SubmitFlags flags;
  AddSubmitFlags(*submit, flags);
  std::vector<std::string> argv = {"submit"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::reverse(argv.begin(), argv.end());
  try {
    app.parse(argv);
  } catch (const CLI::Error& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return flags;
}

// In-memory files for SubmitContext::read_file; records what was asked for.
class FakeFiles {
 public:
  void Add(const std::string& path, std::string text) { files_[path] = std::move(text); }

  absl::StatusOr<std::string> Read(const std::string& path) {
    reads_.push_back(path);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError("script \"" + path + "\" does not exist");
    return it->second;
  }

  const std::vector<std::string>& reads() const { return reads_; }

 private:
  std::map<std::string, std::string> files_;
  std::vector<std::string> reads_;
};

}  // namespace drocc::client::testing
