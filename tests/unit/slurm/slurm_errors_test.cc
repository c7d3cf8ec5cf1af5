#include "daemon/slurm/slurm_errors.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace drocc::slurm {
namespace {

// Slurm's error numbers are part of its protocol (slurm_errno.h); the values are written
// out here because only daemon/slurm's sources include Slurm's headers.
constexpr int kConnectionError = 1001;      // SLURM_COMMUNICATIONS_CONNECTION_ERROR
constexpr int kCtldConnectionError = 1800;  // SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR
constexpr int kInvalidPartition = 2000;     // ESLURM_INVALID_PARTITION_NAME
constexpr int kAccessDenied = 2002;         // ESLURM_ACCESS_DENIED
constexpr int kInvalidNodeCount = 2006;     // ESLURM_INVALID_NODE_COUNT
constexpr int kQueueFull = 2007;            // ESLURM_ERROR_ON_DESC_TO_RECORD_COPY
constexpr int kUserIdMissing = 2010;        // ESLURM_USER_ID_MISSING
constexpr int kNodeConfig = 2014;           // ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE
constexpr int kTaskMemory = 2044;           // ESLURM_INVALID_TASK_MEMORY
constexpr int kTimeLimit = 2051;            // ESLURM_INVALID_TIME_LIMIT
constexpr int kInvalidGres = 2072;          // ESLURM_INVALID_GRES

TEST(SlurmErrorsTest, UnreachableControllerIsUnavailable) {
  for (int e : {kConnectionError, kCtldConnectionError, kQueueFull, ECONNREFUSED, EAGAIN}) {
    absl::Status s = StatusFromSlurmError(e, "submitting drocc job 1");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << e << ": " << s;
    EXPECT_NE(s.message().find("retries"), std::string_view::npos) << s;
  }
}

TEST(SlurmErrorsTest, BadRequestsAreInvalidArgumentWithSlurmsWordsAndAHint) {
  struct Case {
    int errnum;
    const char* slurm_words;
    const char* hint;
  };
  for (const Case& c :
       {Case{kInvalidPartition, "Invalid partition name specified", "sinfo"},
        Case{kInvalidNodeCount, "Node count specification invalid", "nodes"},
        Case{kNodeConfig, "Requested node configuration is not available", "nodes"},
        Case{kTaskMemory, "Memory required by task is not available", "--mem"},
        Case{kTimeLimit, "Requested time limit is invalid", "MaxTime"},
        Case{kInvalidGres, "Invalid generic resource (gres) specification", "Gres"}}) {
    absl::Status s = StatusFromSlurmError(c.errnum, "submitting drocc job 9");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.errnum << ": " << s;
    EXPECT_NE(s.message().find("submitting drocc job 9: Slurm says"), std::string_view::npos) << s;
    EXPECT_NE(s.message().find(c.slurm_words), std::string_view::npos) << s;
    EXPECT_NE(s.message().find(c.hint), std::string_view::npos) << s;
  }
}

TEST(SlurmErrorsTest, NotAllowedIsFailedPrecondition) {
  EXPECT_EQ(StatusFromSlurmError(kAccessDenied, "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSlurmError(kUserIdMissing, "x").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SlurmErrorsTest, UnknownIsInternal) {
  absl::Status s = StatusFromSlurmError(999999, "listing Slurm's jobs");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("listing Slurm's jobs"), std::string_view::npos);
}

}  // namespace
}  // namespace drocc::slurm
