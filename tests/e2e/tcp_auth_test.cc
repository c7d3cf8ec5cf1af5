// The TCP listener's MUNGE authentication against a running droccd (address in
// $DROCC_TCP_ADDR): missing, garbage, replayed and misdirected credentials are
// UNAUTHENTICATED; a fresh credential for the right method is accepted.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "daemon/auth/munge.h"
#include "drocc/v1/admin.grpc.pb.h"
#include "drocc/v1/job.grpc.pb.h"

namespace drocc {
namespace {

constexpr char kMethod[] = "/drocc.v1.AdminService/GetAdmissionState";

class TcpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* addr = std::getenv("DROCC_TCP_ADDR");
    ASSERT_NE(addr, nullptr) << "set DROCC_TCP_ADDR to droccd's TCP listener";
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    admin_ = v1::AdminService::NewStub(channel_);
  }
  grpc::Status Call(const std::string* credential) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (credential != nullptr) ctx.AddMetadata("x-drocc-munge", *credential);
    v1::AdmissionState resp;
    return admin_->GetAdmissionState(&ctx, {}, &resp);
  }
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(TcpAuthTest, NoCredentialIsUnauthenticated) {
  grpc::Status s = Call(nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("MUNGE"), std::string::npos) << s.error_message();
}

TEST_F(TcpAuthTest, GarbageIsUnauthenticated) {
  std::string junk = "MUNGE:this-is-not-a-credential:";
  grpc::Status s = Call(&junk);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(TcpAuthTest, FreshCredentialIsAcceptedOnceThenReplayIsRefused) {
  auto cred = auth::MungeEncode(kMethod);
  ASSERT_TRUE(cred.ok()) << cred.status();
  grpc::Status first = Call(&*cred);
  EXPECT_TRUE(first.ok()) << first.error_message();
  grpc::Status replay = Call(&*cred);
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::UNAUTHENTICATED) << replay.error_message();
  EXPECT_NE(replay.error_message().find("replayed"), std::string::npos) << replay.error_message();
}

TEST_F(TcpAuthTest, CredentialForAnotherMethodIsRefused) {
  auto cred = auth::MungeEncode("/drocc.v1.JobService/SubmitJob");
  ASSERT_TRUE(cred.ok()) << cred.status();
  grpc::Status s = Call(&*cred);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(TcpAuthTest, ExpiredCredentialIsRefused) {
  // munge -t 1: a one-second time-to-live; wait it out.
  FILE* p = popen("munge -t 1 -s /drocc.v1.AdminService/GetAdmissionState", "r");
  ASSERT_NE(p, nullptr);
  char buf[4096] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  pclose(p);
  std::string cred(buf, n);
  while (!cred.empty() && (cred.back() == '\n')) cred.pop_back();
  ASSERT_FALSE(cred.empty());
  sleep(3);
  grpc::Status s = Call(&cred);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

std::string Flatten(const grpc::ByteBuffer& buf) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buf.Dump(&slices).ok());
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// grpc.health.v1 and server reflection, which standard tools (grpc_health_probe, grpcurl)
// use, spoken in raw protobuf bytes: gRPC installs their messages without headers.
TEST_F(TcpAuthTest, ServesGrpcHealth) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  grpc::Slice empty(std::string{});  // HealthCheckRequest{service: ""} encodes to no bytes
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", {}, &request, &response,
                 [&done](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Flatten(response), std::string("\x08\x01", 2));  // status: SERVING
}

class ReflectionReader final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ReflectionReader(grpc::GenericStub& stub) {
    // ServerReflectionRequest{list_services: "*"}: field 7, length 1, "*".
    grpc::Slice slice(std::string("\x3a\x01\x2a", 3));
    request_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(
        &ctx_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {}, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (ok) text_ = Flatten(response_);
  }
  void OnDone(const grpc::Status& s) override { done_.set_value(s); }
  grpc::Status Wait() { return done_.get_future().get(); }
  const std::string& text() const { return text_; }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, response_;
  std::string text_;
  std::promise<grpc::Status> done_;
};

TEST_F(TcpAuthTest, ServesReflectionListingDroccServices) {
  grpc::GenericStub stub(channel_);
  ReflectionReader reader(stub);
  grpc::Status s = reader.Wait();
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const char* service : {"drocc.v1.JobService", "drocc.v1.ProjectService",
                              "drocc.v1.AdminService", "drocc.v1.RuntimeService"}) {
    EXPECT_NE(reader.text().find(service), std::string::npos) << service;
  }
}

}  // namespace
}  // namespace drocc
