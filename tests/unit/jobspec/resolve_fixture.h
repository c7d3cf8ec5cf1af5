#pragma once

// The fixture shared by the ResolveJobRequest tests: a fake file system, a fixed cwd and
// environment, and the warnings collected.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "client/jobspec/resolve.h"
#include "jobspec_test_util.h"

namespace drocc::client::testing {

inline constexpr char kCwd[] = "/home/ana/run";
inline constexpr char kJob[] = "/home/ana/run/job.sh";
inline const std::vector<std::string> kEnv = {"HOME=/home/ana", "PATH=/usr/bin", "EDITOR=vim"};

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_.cwd = kCwd;
    ctx_.environment = kEnv;
    ctx_.read_file = [this](const std::string& path) { return files_.Read(path); };
    ctx_.warn = [this](std::string_view w) { warnings_.emplace_back(w); };
  }

  // job.sh in the cwd, with these lines after "#!/bin/bash".
  void JobScript(const std::vector<std::string>& lines) {
    std::string text = "#!/bin/bash\n";
    for (const std::string& line : lines) text += line + "\n";
    files_.Add(kJob, text);
  }

  absl::StatusOr<JobRequest> Submit(const std::vector<std::string>& args) {
    absl::StatusOr<SubmitFlags> flags = ParseCommandLine(args);
    if (!flags.ok()) return flags.status();
    return ResolveJobRequest(*flags, ctx_);
  }

  FakeFiles files_;
  SubmitContext ctx_;
  std::vector<std::string> warnings_;
};

}  // namespace drocc::client::testing
