// The Store contract for service tokens: PutServiceToken inserts or replaces a token with its
// audit record in one write, ListServiceTokens gives every token back as written. Run against
// every implementation, like store_conformance_test.cc.

#include <future>

#include "daemon/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/store_conformance.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename Impl>
class TokenStoreTest : public StoreTest<Impl> {
 protected:
  absl::Status Put(const ServiceTokenRecord& t, AuditRecord audit = {}) {
    std::promise<absl::Status> done;
    this->store_->PutServiceToken(t, std::move(audit), [&](absl::Status s) { done.set_value(s); });
    return done.get_future().get();
  }
  std::vector<ServiceTokenRecord> List() {
    absl::StatusOr<std::vector<ServiceTokenRecord>> all = this->store_->ListServiceTokens();
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<ServiceTokenRecord>{};
  }
};

TYPED_TEST_SUITE(TokenStoreTest, StoreImpls, StoreImplName);

ServiceTokenRecord Token(std::string id) {
  return {.id = std::move(id),
          .secret_hash = std::string(64, 'a'),
          .user = "alice",
          .uid = 1001,
          .project = "ml-lab",
          .description = "nightly pipeline",
          .created_by = "dana",
          .create_time = T(10),
          .expire_time = T(1000)};
}

TYPED_TEST(TokenStoreTest, TokensComeBackAsWrittenAndAWriteReplacesByIdWithItsAudit) {
  EXPECT_THAT(this->List(), IsEmpty());
  ServiceTokenRecord a = Token("0000000000aa");
  ServiceTokenRecord b = Token("0000000000bb");
  b.expire_time = absl::InfiniteFuture();  // never
  ASSERT_TRUE(this->Put(b, {.time = T(11), .user = "dana", .action = "CreateToken"}).ok());
  ASSERT_TRUE(this->Put(a).ok());  // no action: no audit record
  EXPECT_THAT(this->List(), ElementsAre(a, b));

  a.revoked = true;
  a.last_used_time = T(20);
  ASSERT_TRUE(this->Put(a, {.time = T(21), .user = "dana", .action = "RevokeToken"}).ok());
  EXPECT_THAT(this->List(), ElementsAre(a, b));

  absl::StatusOr<std::vector<AuditRecord>> audit = this->store_->ListAudit({});
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "RevokeToken");
  EXPECT_EQ((*audit)[1].action, "CreateToken");
}

}  // namespace
}  // namespace drocc::store
