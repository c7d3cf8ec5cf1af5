// The authorization matrix of docs/security.md as a table-driven test against a real droccd:
// every role against every RPC of drocc.v1, asserting the exact status code. The table must
// cover every RPC the protos define (checked through the descriptor pool), so a new RPC fails
// this test until someone decides who may call it.
//
//   authz_matrix --fixture FILE --role ROLE   run every row as ROLE; exit 1 on any mismatch
//   authz_matrix --fixture FILE --tls-probe CASE
//                                             one ListMyProjects call over TLS; prints the
//                                             status code's name (CASE: token FILE contents,
//                                             "none" for no token, "plaintext" for a client
//                                             without TLS)
//
// The process identity is the role's for the Unix socket (authz_matrix_test.sh runs it with
// runuser); the anonymous, job and service roles do not depend on it. FILE is JSON written by
// the driver: socket, tcp, tls, ca (paths and addresses), service_token_file,
// job_token_file, and the fixture's ids: job_a (member's running job), job_b (another
// user's job), job_e (member's ended job), project_a (member's), project_b (another one).

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "drocc/v1/admin.grpc.pb.h"
#include "drocc/v1/job.grpc.pb.h"
#include "drocc/v1/project.grpc.pb.h"
#include "drocc/v1/runtime.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace {

using grpc::StatusCode;

// The roles of docs/security.md, in the order of the table's columns.
constexpr std::array<const char*, 7> kRoles = {"anonymous", "other", "member", "manager",
                                               "admin",     "job",   "service"};

// Short names for status codes in the table.
const std::map<std::string, StatusCode>& Codes() {
  static const auto* const kCodes = new std::map<std::string, StatusCode>{
      {"OK", StatusCode::OK},
      {"UA", StatusCode::UNAUTHENTICATED},
      {"PD", StatusCode::PERMISSION_DENIED},
      {"IA", StatusCode::INVALID_ARGUMENT},
      {"NF", StatusCode::NOT_FOUND},
      {"FP", StatusCode::FAILED_PRECONDITION},
      {"UI", StatusCode::UNIMPLEMENTED},
      {"UV", StatusCode::UNAVAILABLE},
  };
  return *kCodes;
}

std::string CodeName(StatusCode code) {
  for (const auto& [name, c] : Codes()) {
    if (c == code) return name;
  }
  return absl::StrCat("code ", static_cast<int>(code));
}

struct Row {
  const char* method;   // "JobService/SubmitJob"
  const char* request;  // text format, with $A $B $E $PA $PB for the fixture's ids
  // anonymous other member manager admin job service
  const char* expect;
};

// A valid job for project $PA that does nothing; every allowed role's submission runs.
#define DROCC_JOB                                                                        \
  "spec { project: \"$PA\" script: \"#!/bin/bash\\ntrue\\n\" workdir: \"/tmp\" output: " \
  "\"/dev/null\" time_limit_s: 60 nodes: 1 ntasks: 1 }"

// clang-format off
const std::vector<Row> kTable = {
    //                                                                anon oth mem man adm job svc
    {"JobService/SubmitJob", DROCC_JOB " idempotency_key: \"matrix-$ROLE\"", "UA PD OK OK PD PD OK"},
    {"JobService/EstimateJob", DROCC_JOB,                                     "UA PD OK OK PD PD OK"},
    {"JobService/GetJob", "id: $A",                                           "UA PD OK PD OK PD OK"},
    {"JobService/ListJobs", "",                                               "UA OK OK OK OK PD OK"},
    {"JobService/ListJobs", "all_users: true",                                "UA PD PD PD OK PD PD"},
    {"JobService/ListJobs", "project: \"$PB\"",                               "UA OK OK OK OK PD PD"},
    {"JobService/CancelJob", "id: $E",                                        "UA PD FP PD FP PD FP"},
    {"JobService/WatchJob", "id: $E",                                         "UA PD OK PD OK PD OK"},
    {"JobService/StreamLogs", "id: $E",                                       "UA PD OK PD OK PD OK"},
    {"ProjectService/ListMyProjects", "",                                     "UA OK OK OK OK PD OK"},
    {"ProjectService/GetBalance", "project: \"$PA\"",                         "UA PD OK OK OK PD OK"},
    {"ProjectService/GetBalance", "project: \"$PB\"",                         "UA OK PD PD OK PD PD"},
    {"ProjectService/ListGrants", "project: \"$PA\"",                         "UA PD OK OK OK PD OK"},
    {"ProjectService/GetUsage", "project: \"$PA\"",                           "UA PD OK OK OK PD OK"},
    {"ProjectService/GetUsage", "project: \"$PA\" per_user: true",            "UA PD PD OK OK PD PD"},
    {"AdminService/CreateAccount", "",                                        "UA PD PD PD IA PD PD"},
    {"AdminService/ListAccounts", "",                                         "UA PD PD PD OK PD PD"},
    {"AdminService/UpdateAccount", "account { name: \"no-such\" }",          "UA PD PD PD NF PD PD"},
    {"AdminService/DeleteAccount", "name: \"no-such\"",                       "UA PD PD PD NF PD PD"},
    {"AdminService/CreateProject", "",                                        "UA PD PD PD IA PD PD"},
    {"AdminService/ListProjects", "",                                         "UA PD PD PD OK PD PD"},
    {"AdminService/UpdateProject", "project { name: \"no-such\" }",          "UA PD PD PD NF PD PD"},
    {"AdminService/DeleteProject", "name: \"no-such\"",                       "UA PD PD PD NF PD PD"},
    {"AdminService/AddMember", "",                                            "UA PD PD PD IA PD PD"},
    {"AdminService/ListMembers", "project: \"$PA\"",                          "UA PD PD PD OK PD PD"},
    {"AdminService/UpdateMember", "member { project: \"no-such\" user: \"alice\" }",
                                                                              "UA PD PD PD NF PD PD"},
    {"AdminService/RemoveMember", "project: \"no-such\" user: \"alice\"",     "UA PD PD PD NF PD PD"},
    {"AdminService/CreateGrant", "",                                          "UA PD PD PD IA PD PD"},
    {"AdminService/ListGrants", "",                                           "UA PD PD PD OK PD PD"},
    {"AdminService/UpdateGrant", "grant { id: 999999 }",                      "UA PD PD PD NF PD PD"},
    {"AdminService/DeleteGrant", "id: 999999",                                "UA PD PD PD NF PD PD"},
    {"AdminService/SetLimit", "",                                             "UA PD PD PD IA PD PD"},
    {"AdminService/ListLimits", "",                                           "UA PD PD PD OK PD PD"},
    {"AdminService/DeleteLimit", "project: \"no-such\"",                      "UA PD PD PD NF PD PD"},
    {"AdminService/UsageReport", "",                                          "UA PD PD PD OK PD PD"},
    {"AdminService/ListAuditEvents", "",                                      "UA PD PD PD OK PD PD"},
    {"AdminService/DrainAdmission", "reason: \"authz matrix\"",               "UA PD PD PD OK PD PD"},
    {"AdminService/ResumeAdmission", "",                                      "UA PD PD PD OK PD PD"},
    {"AdminService/GetAdmissionState", "",                                    "UA OK OK OK OK PD OK"},
    {"AdminService/CreateToken", "",                                          "UA PD PD PD IA PD PD"},
    {"AdminService/ListTokens", "",                                           "UA PD PD PD OK PD PD"},
    {"AdminService/RevokeToken", "id: \"000000000000\"",                      "UA PD PD PD NF PD PD"},
    {"AdminService/Backup", "path: \"relative.db\"",                          "UA PD PD PD IA PD PD"},
    {"RuntimeService/ReportProgress", "job_id: $A phase: \"matrix\"",         "UA UA UA UA UA OK PD"},
    {"RuntimeService/ReportProgress", "job_id: $B phase: \"matrix\"",         "UA UA UA UA UA PD PD"},
    {"RuntimeService/ReportCheckpoint", "job_id: $A checkpoint { step: 1 path: \"/x\" }",
                                                                              "UA UA UA UA UA OK PD"},
    {"RuntimeService/RequestRequeue", "job_id: $B",                           "UA UA UA UA UA PD PD"},
};
// clang-format on

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// One call of any RPC, unary or server-streaming alike: write the request, read every
// answer, return the status.
class RawCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  RawCall(grpc::GenericStub& stub, const std::string& method, const std::string& request,
          const std::multimap<std::string, std::string>& metadata) {
    for (const auto& [k, v] : metadata) ctx_.AddMetadata(k, v);
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(&ctx_, method, {}, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (ok) StartRead(&response_);
  }
  void OnDone(const grpc::Status& s) override { done_.set_value(s); }
  grpc::Status Wait() { return done_.get_future().get(); }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, response_;
  std::promise<grpc::Status> done_;
};

struct Fixture {
  nlohmann::json j;
  std::string Get(const char* key) const {
    if (!j.contains(key)) {
      std::fprintf(stderr, "authz_matrix: the fixture has no \"%s\"\n", key);
      std::exit(2);
    }
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
  }
};

std::shared_ptr<grpc::Channel> TlsChannel(const Fixture& f) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadFile(f.Get("ca"));
  return grpc::CreateChannel(f.Get("tls"), grpc::SslCredentials(o));
}

// The channel and metadata a role calls with.
struct Caller {
  std::shared_ptr<grpc::Channel> channel;
  std::multimap<std::string, std::string> metadata;
};

Caller CallerFor(const std::string& role, const Fixture& f) {
  Caller c;
  if (role == "anonymous") {
    c.channel = grpc::CreateChannel(f.Get("tcp"), grpc::InsecureChannelCredentials());
  } else if (role == "job") {
    // The token alone, on plain TCP without MUNGE: it is the whole identity of a job.
    c.channel = grpc::CreateChannel(f.Get("tcp"), grpc::InsecureChannelCredentials());
    c.metadata.emplace("x-drocc-job-token", ReadFile(f.Get("job_token_file")));
  } else if (role == "service") {
    c.channel = TlsChannel(f);
    c.metadata.emplace("authorization",
                       absl::StrCat("Bearer ", ReadFile(f.Get("service_token_file"))));
  } else {
    c.channel = grpc::CreateChannel(absl::StrCat("unix:", f.Get("socket")),
                                    grpc::InsecureChannelCredentials());
  }
  return c;
}

// The request message of `method` from the row's text, with the fixture's ids filled in.
std::string Request(const google::protobuf::MethodDescriptor* m, const Row& row,
                    const std::string& role, const Fixture& f) {
  const std::string text = absl::StrReplaceAll(row.request, {{"$A", f.Get("job_a")},
                                                             {"$B", f.Get("job_b")},
                                                             {"$E", f.Get("job_e")},
                                                             {"$PA", f.Get("project_a")},
                                                             {"$PB", f.Get("project_b")},
                                                             {"$ROLE", role}});
  static google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> msg(factory.GetPrototype(m->input_type())->New());
  if (!google::protobuf::TextFormat::ParseFromString(text, msg.get())) {
    std::fprintf(stderr, "authz_matrix: bad request text for %s: %s\n", row.method, text.c_str());
    std::exit(2);
  }
  return msg->SerializeAsString();
}

// Every RPC of the drocc.v1 services, "Service/Method".
std::vector<const google::protobuf::MethodDescriptor*> AllMethods() {
  // Through a message of each file: that links the generated code and finds every service
  // the file declares, including one added later.
  std::vector<const google::protobuf::MethodDescriptor*> out;
  for (const google::protobuf::FileDescriptor* file :
       {drocc::v1::SubmitJobRequest::descriptor()->file(),
        drocc::v1::GetBalanceRequest::descriptor()->file(),
        drocc::v1::CreateAccountRequest::descriptor()->file(),
        drocc::v1::ReportProgressRequest::descriptor()->file()}) {
    for (int i = 0; i < file->service_count(); ++i) {
      const google::protobuf::ServiceDescriptor* s = file->service(i);
      for (int j = 0; j < s->method_count(); ++j) out.push_back(s->method(j));
    }
  }
  return out;
}

std::string ShortName(const google::protobuf::MethodDescriptor* m) {
  return absl::StrCat(m->service()->name(), "/", m->name());
}

int RunRole(const std::string& role, const Fixture& f) {
  const auto column = std::find(kRoles.begin(), kRoles.end(), role) - kRoles.begin();
  if (column == static_cast<long>(kRoles.size())) {
    std::fprintf(stderr, "authz_matrix: unknown role %s\n", role.c_str());
    return 2;
  }
  std::map<std::string, const google::protobuf::MethodDescriptor*> methods;
  for (const auto* m : AllMethods()) methods[ShortName(m)] = m;

  Caller caller = CallerFor(role, f);  // one channel for every row
  grpc::GenericStub stub(caller.channel);
  int failures = 0;
  std::set<std::string> covered;
  for (const Row& row : kTable) {
    if (!methods.contains(row.method)) {
      std::printf("FAIL %s: no such RPC in drocc.v1 (stale row)\n", row.method);
      ++failures;
      continue;
    }
    covered.insert(row.method);
    const std::vector<std::string> expect = absl::StrSplit(row.expect, ' ', absl::SkipEmpty());
    if (expect.size() != kRoles.size() || !Codes().contains(expect[column])) {
      std::printf("FAIL %s: malformed expectation \"%s\"\n", row.method, row.expect);
      ++failures;
      continue;
    }
    const StatusCode want = Codes().at(expect[column]);
    const auto* m = methods.at(row.method);
    RawCall call(stub, absl::StrCat("/", m->service()->full_name(), "/", m->name()),
                 Request(m, row, role, f), caller.metadata);
    const grpc::Status got = call.Wait();
    const bool ok = got.error_code() == want;
    std::printf("%s %-9s %-32s %-44s want %s got %s%s%s\n", ok ? "ok  " : "FAIL", role.c_str(),
                row.method, row.request[0] == '\0' ? "{}" : row.request, CodeName(want).c_str(),
                CodeName(got.error_code()).c_str(), got.ok() ? "" : ": ",
                got.error_message().c_str());
    failures += ok ? 0 : 1;
  }
  for (const auto& [name, m] : methods) {
    if (!covered.contains(name)) {
      std::printf(
          "FAIL %s: the matrix has no row for this RPC; add one (and to docs/security.md)\n",
          name.c_str());
      ++failures;
    }
  }
  std::printf("%s: %d failure(s) over %zu rows and %zu RPCs\n", role.c_str(), failures,
              kTable.size(), methods.size());
  return failures == 0 ? 0 : 1;
}

int TlsProbe(const std::string& which, const Fixture& f) {
  std::shared_ptr<grpc::Channel> channel;
  std::multimap<std::string, std::string> md;
  if (which == "plaintext") {
    channel = grpc::CreateChannel(f.Get("tls"), grpc::InsecureChannelCredentials());
  } else {
    channel = TlsChannel(f);
    if (which != "none") md.emplace("authorization", absl::StrCat("Bearer ", ReadFile(which)));
  }
  grpc::GenericStub stub(channel);
  RawCall call(stub, "/drocc.v1.ProjectService/ListMyProjects", "", md);
  const grpc::Status got = call.Wait();
  std::printf("%s %s\n", CodeName(got.error_code()).c_str(), got.error_message().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string fixture_path, role, probe;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--fixture") fixture_path = argv[i + 1];
    if (flag == "--role") role = argv[i + 1];
    if (flag == "--tls-probe") probe = argv[i + 1];
  }
  if (fixture_path.empty() || (role.empty() == probe.empty())) {
    std::fprintf(stderr, "usage: authz_matrix --fixture FILE (--role ROLE | --tls-probe CASE)\n");
    return 2;
  }
  Fixture f;
  f.j = nlohmann::json::parse(ReadFile(fixture_path), nullptr, /*allow_exceptions=*/false);
  if (f.j.is_discarded()) {
    std::fprintf(stderr, "authz_matrix: %s is not JSON\n", fixture_path.c_str());
    return 2;
  }
  return role.empty() ? TlsProbe(probe, f) : RunRole(role, f);
}
