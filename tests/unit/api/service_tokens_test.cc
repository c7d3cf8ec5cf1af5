// Service tokens: their text format (daemon/auth/service_token.h) and the registry that
// checks them, records every use and survives a restart (daemon/api/service_tokens.h).

#include "daemon/api/service_tokens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "daemon/auth/service_token.h"
#include "daemon/store/in_memory_store.h"

namespace drocc::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServiceTokenTextTest, MadeTokensParseBackAndOnlyTheirSecretMatchesTheHash) {
  absl::StatusOr<auth::NewServiceToken> t = auth::MakeServiceToken();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->text.size(), 6 + 12 + 1 + 64);
  absl::StatusOr<auth::ServiceTokenParts> p = auth::ParseServiceToken(t->text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, t->parts.id);
  EXPECT_EQ(p->secret, t->parts.secret);
  const std::string hash = auth::HashTokenSecret(p->secret);
  EXPECT_TRUE(auth::TokenSecretMatches(p->secret, hash));
  std::string other = p->secret;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(auth::TokenSecretMatches(other, hash));
  EXPECT_NE(auth::MakeServiceToken()->text, t->text);
}

TEST(ServiceTokenTextTest, MalformedTextIsRefusedWithoutRepeatingIt) {
  const std::string good = auth::MakeServiceToken()->text;
  for (std::string bad : {std::string(""), std::string("drocc_"), good.substr(1), good + "0",
                          "xxxxx_" + good.substr(6), std::string(good).replace(18, 1, "-"),
                          std::string(good).replace(30, 1, "G")}) {
    absl::StatusOr<auth::ServiceTokenParts> p = auth::ParseServiceToken(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    if (bad.size() > 20) {
      EXPECT_THAT(std::string(p.status().message()), Not(HasSubstr(bad)));
    }
  }
}

class ServiceTokenRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = ServiceTokenRegistry::Load(&store_, &clock_);
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = *std::move(r);
  }
  ServiceTokenRegistry::Created Create(absl::Duration lifetime = absl::Hours(24)) {
    store::ServiceTokenRecord spec{.user = "alice",
                                   .uid = 1001,
                                   .project = "ml-lab",
                                   .created_by = "dana",
                                   .expire_time = clock_.Now() + lifetime};
    std::promise<absl::StatusOr<ServiceTokenRegistry::Created>> done;
    registry_->Create(spec, {.user = "dana", .action = "CreateToken"},
                      [&](absl::StatusOr<ServiceTokenRegistry::Created> c) { done.set_value(c); });
    absl::StatusOr<ServiceTokenRegistry::Created> c = done.get_future().get();
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  std::vector<store::AuditRecord> Audit() { return *store_.ListAudit({}); }

  FakeClock clock_;
  store::InMemoryStore store_;
  std::unique_ptr<ServiceTokenRegistry> registry_;
};

TEST_F(ServiceTokenRegistryTest, ATokenWorksUntilItExpiresAndOnlyItsHashIsStored) {
  ServiceTokenRegistry::Created made = Create(absl::Hours(1));
  absl::StatusOr<store::ServiceTokenRecord> ok = registry_->Verify(made.text, "/x/Y", "peer");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->user, "alice");
  EXPECT_EQ(ok->project, "ml-lab");
  std::vector<store::ServiceTokenRecord> stored = *store_.ListServiceTokens();
  ASSERT_EQ(stored.size(), 1u);
  const std::string secret = made.text.substr(made.text.rfind('_') + 1);
  EXPECT_EQ(stored[0].secret_hash, auth::HashTokenSecret(secret));
  EXPECT_EQ(stored[0].secret_hash.find(secret), std::string::npos);
  EXPECT_EQ(Audit().front().target, "token " + made.record.id);  // the creation, audited

  clock_.Advance(absl::Hours(1));
  absl::StatusOr<store::ServiceTokenRecord> late = registry_->Verify(made.text, "/x/Y", "peer");
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("expired"));
  EXPECT_FALSE(Audit().front().ok);  // the refused use, audited
}

TEST_F(ServiceTokenRegistryTest, WrongUnknownOrRevokedTokensAreUnauthenticated) {
  ServiceTokenRegistry::Created made = Create();
  std::string wrong = made.text;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(registry_->Verify(wrong, "/x/Y", "p").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(registry_->Verify(auth::MakeServiceToken()->text, "/x/Y", "p").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(registry_->Verify("Bearer nonsense", "/x/Y", "p").status().code(),
            absl::StatusCode::kUnauthenticated);

  std::promise<absl::StatusOr<store::ServiceTokenRecord>> revoked;
  registry_->Revoke(made.record.id, {.user = "dana", .action = "RevokeToken"},
                    [&](absl::StatusOr<store::ServiceTokenRecord> r) { revoked.set_value(r); });
  ASSERT_TRUE(revoked.get_future().get().ok());
  absl::StatusOr<store::ServiceTokenRecord> after = registry_->Verify(made.text, "/x/Y", "p");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(after.status().message()), HasSubstr("revoked"));

  std::promise<absl::StatusOr<store::ServiceTokenRecord>> unknown;
  registry_->Revoke("0123456789ab", {},
                    [&](absl::StatusOr<store::ServiceTokenRecord> r) { unknown.set_value(r); });
  EXPECT_EQ(unknown.get_future().get().status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ServiceTokenRegistryTest, UsesAreAuditedAndTokensSurviveARestart) {
  ServiceTokenRegistry::Created made = Create();
  clock_.Advance(absl::Minutes(5));
  registry_->RecordUse(made.record.id, "/drocc.v1.JobService/ListJobs", "ipv4:10.0.0.1:5",
                       absl::OkStatus());
  registry_->RecordUse(made.record.id, "/drocc.v1.AdminService/ListAccounts", "ipv4:10.0.0.1:6",
                       absl::PermissionDeniedError("no"));
  std::vector<store::AuditRecord> audit = Audit();
  ASSERT_GE(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "ListAccounts");
  EXPECT_FALSE(audit[0].ok);
  EXPECT_EQ(audit[1].action, "ListJobs");
  EXPECT_TRUE(audit[1].ok);
  EXPECT_EQ(audit[1].user, "alice");
  EXPECT_EQ(audit[1].peer, "ipv4:10.0.0.1:5");

  // A new registry over the same store (droccd restarted) knows the token and its last use.
  auto again = ServiceTokenRegistry::Load(&store_, &clock_);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ((*again)->List().size(), 1u);
  EXPECT_EQ((*again)->List()[0].last_used_time, clock_.Now());
  EXPECT_TRUE((*again)->Verify(made.text, "/x/Y", "p").ok());
}

}  // namespace
}  // namespace drocc::api
