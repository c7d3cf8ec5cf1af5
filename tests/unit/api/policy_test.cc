#include "daemon/api/policy.h"

#include <gtest/gtest.h>

#include <set>

#include "drocc/v1/admin.grpc.pb.h"
#include "drocc/v1/job.grpc.pb.h"
#include "drocc/v1/project.grpc.pb.h"
#include "drocc/v1/runtime.grpc.pb.h"

namespace drocc::api {
namespace {

auth::Caller User(uint32_t uid, bool admin = false) {
  return {.uid = uid, .gid = uid, .user = "u" + std::to_string(uid), .is_admin = admin};
}

TEST(PolicyTest, OwnersAndAdminsActOnAJobOthersDoNot) {
  Policy policy;
  queue::Job job;
  job.id = 5;
  job.uid = 1001;
  for (JobAction a : {JobAction::kView, JobAction::kCancel, JobAction::kReadLogs}) {
    EXPECT_TRUE(policy.CheckJob(User(1001), job, a).ok());
    EXPECT_TRUE(policy.CheckJob(User(1003, /*admin=*/true), job, a).ok());
    absl::Status other = policy.CheckJob(User(1002), job, a);
    EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(other.message().find("belongs to another user"), absl::string_view::npos);
  }
}

TEST(PolicyTest, OnlyAdminsListOtherUsersJobs) {
  Policy policy;
  EXPECT_TRUE(policy.CheckListJobs(User(1001), 1001u).ok());
  EXPECT_EQ(policy.CheckListJobs(User(1001), 1002u).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.CheckListJobs(User(1001), std::nullopt).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckListJobs(User(1003, true), std::nullopt).ok());
}

TEST(PolicyTest, OnlyAdminsAdminister) {
  Policy policy;
  EXPECT_EQ(policy.CheckAdmin(User(1001), "draining admission").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckAdmin(User(0, true), "draining admission").ok());
}

auth::Caller Via(auth::Via via) {
  auth::Caller c = User(1001);
  c.via = via;
  if (via == auth::Via::kServiceToken) {
    c.token_id = "0123456789ab";
    c.token_project = "ml-lab";
  }
  return c;
}

TEST(PolicyTest, EveryRpcOfTheProtosHasExactlyOneRuleAndNoRuleIsStale) {
  std::set<std::string> rpcs;
  for (const google::protobuf::FileDescriptor* file :
       {v1::SubmitJobRequest::descriptor()->file(), v1::GetBalanceRequest::descriptor()->file(),
        v1::CreateAccountRequest::descriptor()->file(),
        v1::ReportProgressRequest::descriptor()->file()}) {
    for (int i = 0; i < file->service_count(); ++i) {
      for (int j = 0; j < file->service(i)->method_count(); ++j) {
        const auto* m = file->service(i)->method(j);
        rpcs.insert("/" + m->service()->full_name() + "/" + m->name());
      }
    }
  }
  std::set<std::string> ruled;
  for (const MethodRule& r : Policy::Rules()) {
    EXPECT_TRUE(ruled.insert(std::string(r.method)).second) << "two rules for " << r.method;
    EXPECT_TRUE(rpcs.contains(std::string(r.method))) << "a rule for no RPC: " << r.method;
  }
  for (const std::string& rpc : rpcs) EXPECT_TRUE(ruled.contains(rpc)) << "no rule for " << rpc;
}

TEST(PolicyTest, EachKindOfCallerReachesOnlyItsServices) {
  Policy policy;
  const char* submit = "/drocc.v1.JobService/SubmitJob";
  const char* report = "/drocc.v1.RuntimeService/ReportProgress";
  const char* grant = "/drocc.v1.AdminService/CreateGrant";
  const char* state = "/drocc.v1.AdminService/GetAdmissionState";
  for (auth::Via user : {auth::Via::kUnixSocket, auth::Via::kMunge}) {
    EXPECT_TRUE(policy.CheckMethod(Via(user), submit).ok());
    EXPECT_TRUE(policy.CheckMethod(Via(user), grant).ok());  // CheckAdmin decides
    EXPECT_EQ(policy.CheckMethod(Via(user), report).code(), absl::StatusCode::kUnauthenticated);
  }
  const auth::Caller job = Via(auth::Via::kJobToken);
  EXPECT_TRUE(policy.CheckMethod(job, report).ok());
  for (const char* m : {submit, grant, state}) {
    EXPECT_EQ(policy.CheckMethod(job, m).code(), absl::StatusCode::kPermissionDenied) << m;
  }
  const auth::Caller service = Via(auth::Via::kServiceToken);
  EXPECT_TRUE(policy.CheckMethod(service, submit).ok());
  EXPECT_TRUE(policy.CheckMethod(service, state).ok());
  EXPECT_EQ(policy.CheckMethod(service, grant).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.CheckMethod(service, report).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.CheckMethod(User(0, true), "/drocc.v1.JobService/NewThing").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(PolicyTest, AServiceTokenIsConfinedToItsProject) {
  Policy policy;
  const auth::Caller service = Via(auth::Via::kServiceToken);
  EXPECT_EQ(*policy.ScopedProject(service, ""), "ml-lab");
  EXPECT_EQ(*policy.ScopedProject(service, "ml-lab"), "ml-lab");
  EXPECT_EQ(policy.ScopedProject(service, "other").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(*policy.ScopedProject(User(1001), ""), "");
  EXPECT_EQ(*policy.ScopedProject(User(1001), "other"), "other");

  queue::Job job;
  job.id = 3;
  job.uid = 1001;
  job.project = "ml-lab";
  EXPECT_TRUE(policy.CheckJob(service, job, JobAction::kView).ok());
  job.project = "other";  // the same user's job in another project
  EXPECT_EQ(policy.CheckJob(service, job, JobAction::kView).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckJob(User(1001), job, JobAction::kView).ok());

  quota::Member member{.project = "other", .user = "u1001"};
  EXPECT_EQ(policy.CheckProjectView(service, "other", &member, false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckProjectView(User(1001), "other", &member, false).ok());
}

}  // namespace
}  // namespace drocc::api
