#include <gtest/gtest.h>

#include "daemon/api/job_service.h"

namespace drocc::api {
namespace {

v1::SubmitJobRequest Good() {
  v1::SubmitJobRequest req;
  req.mutable_spec()->set_script("#!/bin/bash\necho hi\n");
  req.mutable_spec()->set_workdir("/home/alice");
  req.mutable_spec()->add_environment("PATH=/usr/bin");
  return req;
}

const auth::Caller kAlice{.uid = 1001, .gid = 1001, .user = "alice"};

TEST(ValidateSubmitTest, AcceptsAPlainJob) { EXPECT_TRUE(ValidateSubmit(Good(), kAlice, {}).ok()); }

TEST(ValidateSubmitTest, AcceptsBothOpenModes) {
  for (const char* mode : {"append", "truncate"}) {
    v1::SubmitJobRequest req = Good();
    req.mutable_spec()->set_open_mode(mode);
    EXPECT_TRUE(ValidateSubmit(req, kAlice, {}).ok()) << mode;
  }
}

TEST(ValidateSubmitTest, UnknownOpenModeNamesTheAcceptedValues) {
  v1::SubmitJobRequest req = Good();
  req.mutable_spec()->set_open_mode("APPEND");
  absl::Status s = ValidateSubmit(req, kAlice, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "unknown open mode \"APPEND\": use \"append\" or \"truncate\", or leave it empty for "
            "Slurm's default");
}

TEST(ValidateSubmitTest, RefusesRootAndSystemAccounts) {
  auth::Caller root{.uid = 0, .gid = 0, .user = "root", .is_admin = true};
  absl::Status s = ValidateSubmit(Good(), root, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  auth::Caller daemon{.uid = 1, .gid = 1, .user = "daemon"};
  EXPECT_EQ(ValidateSubmit(Good(), daemon, {}).code(), absl::StatusCode::kPermissionDenied);
}

TEST(ValidateSubmitTest, RefusesMalformedRequests) {
  struct Case {
    const char* what;
    std::function<void(v1::SubmitJobRequest&)> spoil;
  };
  std::vector<Case> cases = {
      {"no script", [](auto& r) { r.mutable_spec()->clear_script(); }},
      {"no #!", [](auto& r) { r.mutable_spec()->set_script("echo hi\n"); }},
      {"NUL in script",
       [](auto& r) { r.mutable_spec()->set_script(std::string("#!/bin/sh\n\0", 11)); }},
      {"huge script",
       [](auto& r) { r.mutable_spec()->set_script("#!/bin/sh\n" + std::string(5 << 20, 'x')); }},
      {"relative workdir", [](auto& r) { r.mutable_spec()->set_workdir("home/alice"); }},
      {"bad env", [](auto& r) { r.mutable_spec()->add_environment("NOEQUALS"); }},
      {"max < min nodes",
       [](auto& r) {
         r.mutable_spec()->set_nodes(4);
         r.mutable_spec()->set_max_nodes(2);
       }},
      {"negative time", [](auto& r) { r.mutable_spec()->set_time_limit_s(-5); }},
      {"newline in output", [](auto& r) { r.mutable_spec()->set_output("a\nb"); }},
      {"unknown open mode", [](auto& r) { r.mutable_spec()->set_open_mode("overwrite"); }},
      {"open mode not spelled as stored", [](auto& r) { r.mutable_spec()->set_open_mode("a"); }},
      {"long key", [](auto& r) { r.set_idempotency_key(std::string(200, 'k')); }},
  };
  for (const Case& c : cases) {
    v1::SubmitJobRequest req = Good();
    c.spoil(req);
    absl::Status s = ValidateSubmit(req, kAlice, {});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << s;
    EXPECT_FALSE(s.message().empty()) << c.what;
  }
}

}  // namespace
}  // namespace drocc::api
