#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "daemon/api/job_service.h"
#include "daemon/api/user_path.h"

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

TEST(ValidateSubmitTest, RefusesDotDotInEveryPath) {
  struct Case {
    const char* field;
    std::function<void(v1::JobSpec&)> set;
  };
  std::vector<Case> cases = {
      {"spec.workdir", [](auto& s) { s.set_workdir("/home/alice/../bob"); }},
      {"spec.workdir", [](auto& s) { s.set_workdir("/home/alice/.."); }},
      {"spec.output", [](auto& s) { s.set_output("../bob/x.out"); }},
      {"spec.output", [](auto& s) { s.set_output("/home/alice/logs/../../bob/x.out"); }},
      {"spec.error", [](auto& s) { s.set_error("/tmp/../etc/x"); }},
      {"spec.script_path", [](auto& s) { s.set_script_path("/home/alice/../bob/job.sh"); }},
  };
  for (const Case& c : cases) {
    v1::SubmitJobRequest req = Good();
    c.set(*req.mutable_spec());
    absl::Status s = ValidateSubmit(req, kAlice, {});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(absl::StartsWith(s.message(), c.field)) << s;
    EXPECT_NE(s.message().find("has a \"..\" component; give the path without \"..\""),
              std::string::npos)
        << s;
  }
}

TEST(ValidateSubmitTest, RefusesDotDotThatOnlyExpansionMakes) {
  v1::SubmitJobRequest req = Good();
  req.mutable_spec()->set_name("../../etc");
  req.mutable_spec()->set_output("%x/x.out");
  absl::Status s = ValidateSubmit(req, kAlice, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "spec.output \"%x/x.out\" has a \"..\" component once Slurm expands it (%x is the "
            "job name): rename the job or write the path without %x or backslashes");
  // Slurm drops single backslashes from a pattern that has one: ".\." becomes "..".
  req = Good();
  req.mutable_spec()->set_error("/home/alice/.\\./x");
  EXPECT_EQ(ValidateSubmit(req, kAlice, {}).code(), absl::StatusCode::kInvalidArgument);
  // The same name with a pattern that does not use it is fine.
  req = Good();
  req.mutable_spec()->set_name("../../etc");
  req.mutable_spec()->set_output("/home/alice/%j.out");
  EXPECT_TRUE(ValidateSubmit(req, kAlice, {}).ok());
}

TEST(ValidateSubmitTest, AcceptsDotsThatAreNotComponents) {
  v1::SubmitJobRequest req = Good();
  req.mutable_spec()->set_workdir("/home/alice/..hidden/v1..2");
  req.mutable_spec()->set_output("x..out");  // relative: Slurm puts it in the workdir
  req.mutable_spec()->set_error("/home/alice/./err");
  req.mutable_spec()->set_name("a..b");
  EXPECT_TRUE(ValidateSubmit(req, kAlice, {}).ok()) << ValidateSubmit(req, kAlice, {});
}

TEST(ValidateSubmitTest, BoundsNameTheField) {
  v1::SubmitJobRequest req = Good();
  req.mutable_spec()->set_name(std::string(257, 'n'));
  EXPECT_EQ(ValidateSubmit(req, kAlice, {}).message(),
            "spec.name is 257 bytes; the limit is 256: shorten it");
  req = Good();
  req.mutable_spec()->set_partition(std::string(1000, 'p'));
  EXPECT_EQ(ValidateSubmit(req, kAlice, {}).message(),
            "spec.partition is 1000 bytes; the limit is 256: shorten it");
}

TEST(UserPathTest, DotDotComponents) {
  for (const char* p : {"..", "../x", "a/..", "a/../b", "/..", "//..//"}) {
    EXPECT_TRUE(HasDotDot(p)) << p;
  }
  for (const char* p : {"", "/", ".", "./x", "...", "a..", "..a", "a/.../b", "/a/b.."}) {
    EXPECT_FALSE(HasDotDot(p)) << p;
  }
  EXPECT_EQ(CheckUserPath("spec.workdir", std::string("/a\0b", 4)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckUserPath("spec.output", "a\nb").message(),
            "spec.output \"a\\nb\" contains a NUL or newline character; paths may not");
}

}  // namespace
}  // namespace drocc::api
