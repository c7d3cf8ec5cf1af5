#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {
namespace {

TEST(DroccCommentTest, WritesPrefixIdAndInstance) {
  EXPECT_EQ(DroccComment(42), "drocc:42");
  EXPECT_EQ(DroccComment(42, "0a1b2c3d"), "drocc:42@0a1b2c3d");
  EXPECT_EQ(DroccComment(std::numeric_limits<queue::JobId>::max()), "drocc:18446744073709551615");
}

TEST(DroccCommentTest, ParsesWhatItWrites) {
  for (queue::JobId id : {queue::JobId{1}, queue::JobId{7}, queue::JobId{123456789},
                          std::numeric_limits<queue::JobId>::max()}) {
    for (const std::string& instance :
         std::vector<std::string>{"", "0a1b2c3d", "f", std::string(kMaxInstanceSize, 'e')}) {
      EXPECT_EQ(ParseDroccComment(DroccComment(id, instance)),
                (DroccTag{.id = id, .instance = instance}))
          << id << "@" << instance;
    }
  }
}

TEST(DroccCommentTest, RejectsAnythingElse) {
  for (const std::string& c :
       std::vector<std::string>{"",
                                "drocc:",
                                "drocc",
                                "drocc:abc",
                                "drocc:12a",
                                "drocc:-1",
                                "drocc:+1",
                                " drocc:1",
                                "drocc:1 ",
                                "drocc: 1",
                                "Drocc:1",
                                "DROCC:1",
                                "drocc:1.0",
                                "drocc:0",
                                "drocc:007",
                                "my job, see drocc:12",
                                "drocc:12 retry",
                                "drocc:18446744073709551616",
                                "drocc:99999999999999999999999",
                                "drocc:1@",
                                "drocc:1@ABCD",
                                "drocc:1@0a1b 2",
                                "drocc:1@0a1b@0a1b",
                                "drocc:@0a1b",
                                "drocc:0@0a1b",
                                "drocc:1@g00d",
                                "drocc:1@" + std::string(kMaxInstanceSize + 1, 'a')}) {
    EXPECT_EQ(ParseDroccComment(c), std::nullopt) << '"' << c << '"';
  }
}

TEST(DroccCommentTest, ValidInstances) {
  EXPECT_TRUE(IsValidInstance("0a1b2c3d"));
  EXPECT_FALSE(IsValidInstance(""));
  EXPECT_FALSE(IsValidInstance("0A1B"));
  EXPECT_FALSE(IsValidInstance(std::string(kMaxInstanceSize + 1, '0')));
}

}  // namespace
}  // namespace drocc::slurm
