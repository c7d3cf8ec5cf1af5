#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "daemon/queue/job.h"

namespace drocc::queue {
namespace {

using S = JobState;

constexpr S kAll[] = {S::kPending,   S::kAdmitted, S::kRunning,  S::kCompleted, S::kFailed,
                      S::kCancelled, S::kTimeout,  S::kRequeued, S::kRejected,  S::kLost};

// The state machine of SPEC §3, written out pair by pair.
const std::set<std::pair<S, S>>& Allowed() {
  static const std::set<std::pair<S, S>> allowed = {
      {S::kPending, S::kPending},    {S::kPending, S::kAdmitted},   {S::kPending, S::kCancelled},
      {S::kPending, S::kRejected},   {S::kAdmitted, S::kAdmitted},  {S::kAdmitted, S::kRunning},
      {S::kAdmitted, S::kCompleted}, {S::kAdmitted, S::kFailed},    {S::kAdmitted, S::kCancelled},
      {S::kAdmitted, S::kTimeout},   {S::kAdmitted, S::kPending},   {S::kAdmitted, S::kRequeued},
      {S::kAdmitted, S::kLost},      {S::kAdmitted, S::kRejected},  {S::kRunning, S::kRunning},
      {S::kRunning, S::kCompleted},  {S::kRunning, S::kFailed},     {S::kRunning, S::kCancelled},
      {S::kRunning, S::kTimeout},    {S::kRunning, S::kRequeued},   {S::kRunning, S::kLost},
      {S::kRequeued, S::kRequeued},  {S::kRequeued, S::kRunning},   {S::kRequeued, S::kPending},
      {S::kRequeued, S::kAdmitted},  {S::kRequeued, S::kCompleted}, {S::kRequeued, S::kFailed},
      {S::kRequeued, S::kCancelled}, {S::kRequeued, S::kTimeout},   {S::kRequeued, S::kLost},
  };
  return allowed;
}

TEST(JobStateTest, EveryTransitionFollowsTheStateMachine) {
  for (S from : kAll) {
    for (S to : kAll) {
      bool expected = Allowed().count({from, to}) == 1;
      absl::Status s = CheckTransition(from, to);
      EXPECT_EQ(s.ok(), expected) << JobStateName(from) << " -> " << JobStateName(to);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_NE(s.message().find(JobStateName(to)), absl::string_view::npos) << s.message();
      }
    }
  }
}

TEST(JobStateTest, TerminalStatesNeverChange) {
  for (S from : {S::kCompleted, S::kFailed, S::kCancelled, S::kTimeout, S::kRejected, S::kLost}) {
    EXPECT_TRUE(IsTerminal(from));
    for (S to : kAll) EXPECT_FALSE(CheckTransition(from, to).ok());
  }
  for (S s : {S::kPending, S::kAdmitted, S::kRunning, S::kRequeued}) EXPECT_FALSE(IsTerminal(s));
}

TEST(JobStateTest, NamesRoundTrip) {
  for (S s : kAll) {
    auto parsed = ParseJobState(JobStateName(s));
    ASSERT_TRUE(parsed.has_value()) << JobStateName(s);
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(ParseJobState("running"), S::kRunning);
  EXPECT_FALSE(ParseJobState("SLEEPING").has_value());
}

TEST(JobStateTest, ApplyUpdateIsCompareAndSet) {
  Job job;
  job.id = 7;
  absl::Time t = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(ApplyUpdate({.id = 7,
                           .from = S::kPending,
                           .to = S::kAdmitted,
                           .at = t,
                           .reason = "go",
                           .admit_time = t},
                          job)
                  .ok());
  EXPECT_EQ(job.state, S::kAdmitted);
  EXPECT_EQ(job.admit_time, t);
  ASSERT_EQ(job.events.size(), 1u);
  EXPECT_EQ(job.events[0].state, S::kAdmitted);
  // A writer that still believes the job is PENDING loses.
  absl::Status stale = ApplyUpdate({.id = 7, .from = S::kPending, .to = S::kCancelled}, job);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(job.state, S::kAdmitted);
  // A field update in the same state stores no event.
  ASSERT_TRUE(
      ApplyUpdate({.id = 7, .from = S::kAdmitted, .to = S::kAdmitted, .slurm_job_id = 42}, job)
          .ok());
  EXPECT_EQ(job.slurm_job_id, 42u);
  EXPECT_EQ(job.events.size(), 1u);
  ASSERT_TRUE(
      ApplyUpdate({.id = 7, .from = S::kAdmitted, .to = S::kFailed, .exit_code = 3}, job).ok());
  EXPECT_EQ(job.exit_code, 3);
}

}  // namespace
}  // namespace drocc::queue
