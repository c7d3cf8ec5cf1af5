#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {
namespace {

TEST(DroccCommentTest, WritesPrefixAndId) {
  EXPECT_EQ(DroccComment(42), "drocc:42");
  EXPECT_EQ(DroccComment(std::numeric_limits<queue::JobId>::max()), "drocc:18446744073709551615");
}

TEST(DroccCommentTest, ParsesWhatItWrites) {
  for (queue::JobId id : {queue::JobId{1}, queue::JobId{7}, queue::JobId{123456789},
                          std::numeric_limits<queue::JobId>::max()}) {
    EXPECT_EQ(ParseDroccComment(DroccComment(id)), id) << id;
  }
}

TEST(DroccCommentTest, RejectsAnythingElse) {
  for (const char* c : {"", "drocc:", "drocc", "drocc:abc", "drocc:12a", "drocc:-1", "drocc:+1",
                        " drocc:1", "drocc:1 ", "drocc: 1", "Drocc:1", "DROCC:1", "drocc:1.0",
                        "drocc:0", "drocc:007", "my job, see drocc:12", "drocc:12 retry",
                        "drocc:18446744073709551616", "drocc:99999999999999999999999"}) {
    EXPECT_EQ(ParseDroccComment(c), std::nullopt) << '"' << c << '"';
  }
}

}  // namespace
}  // namespace drocc::slurm
