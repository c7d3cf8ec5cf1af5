// The ledger's invariants under random interleavings of Reserve, Settle and Release, with
// grants starting and ending as the fake clock moves. Fixed seeds: failures reproduce.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "common/clock.h"
#include "daemon/quota/ledger.h"
#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::Day;

struct Params {
  uint64_t seed;
  bool grants_expire;    // grants start and end during the run
  bool overrun_allowed;  // actual usage may exceed the reservation
};

class LedgerRandomTest : public ::testing::TestWithParam<Params> {};

TEST_P(LedgerRandomTest, BalanceNeverNegativeAndEveryMilliAccountedFor) {
  const Params p = GetParam();
  std::mt19937_64 rng(p.seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  FakeClock clock(Day(2026, 1, 1));
  Ledger ledger;
  const std::vector<std::string> projects = {"a", "b", "c"};
  GrantId next_grant = 1;
  for (const std::string& project : projects) {
    for (int g = 0; g < 8; ++g) {
      for (ResourceId r : {kGpuHours, kCpuHours}) {
        Grant grant{.id = next_grant++,
                    .project = project,
                    .resource = r,
                    .amount = MilliUnits::FromMilli(pick(1, 2'000'000))};
        if (p.grants_expire) {
          grant.valid_from = clock.Now() + absl::Hours(pick(-100, 1000));
          grant.valid_until = grant.valid_from + absl::Hours(pick(1, 400));
        }
        ASSERT_TRUE(ledger.AddGrant(grant).ok());
      }
    }
  }

  std::map<JobId, ResourceVector> held;  // the test's own record of live reservations
  std::map<JobId, absl::Time> admitted_at;
  ResourceVector total_charged;
  JobId next_job = 1;
  int reserved_ok = 0, settled = 0, released = 0;
  for (int step = 0; step < 4000; ++step) {
    clock.Advance(absl::Minutes(pick(0, 30)));
    const int op = static_cast<int>(pick(0, 9));
    if (op < 5 || held.empty()) {
      const std::string& project = projects[pick(0, 2)];
      ResourceVector cost;
      cost[kGpuHours] = MilliUnits::FromMilli(pick(0, 30'000));
      cost[kCpuHours] = MilliUnits::FromMilli(pick(0, 30'000));
      const JobId job = next_job++;
      if (ledger.Reserve(job, project, cost, clock.Now()).ok()) {
        held[job] = ledger.FindReservation(job)->amount;
        admitted_at[job] = clock.Now();
        ++reserved_ok;
      } else {
        ASSERT_EQ(ledger.FindReservation(job), nullptr);
      }
    } else {
      auto it = held.begin();
      std::advance(it, pick(0, static_cast<int64_t>(held.size()) - 1));
      const JobId job = it->first;
      if (op < 8) {
        ResourceVector actual;
        for (ResourceId r : {kGpuHours, kCpuHours}) {
          const int64_t cap =
              p.overrun_allowed ? it->second[r].milli() * 2 + 1000 : it->second[r].milli();
          actual[r] = MilliUnits::FromMilli(pick(0, cap));
        }
        const UsageWindow ran{admitted_at[job], clock.Now()};
        absl::StatusOr<Settlement> s = ledger.Settle(job, actual, ran, clock.Now());
        ASSERT_TRUE(s.ok()) << s.status();
        for (ResourceId r : {kGpuHours, kCpuHours}) {
          EXPECT_EQ(s->charged[r] + s->overdraft[r], s->actual[r]);
          EXPECT_FALSE(s->overdraft[r].is_negative());
          total_charged[r] += s->charged[r];
          if (!p.grants_expire && !p.overrun_allowed) {
            EXPECT_TRUE(s->overdraft[r].is_zero());
          }
        }
        MilliUnits drawn;
        for (const GrantDraw& d : s->draws) drawn += d.amount;
        EXPECT_EQ(drawn, s->charged[kGpuHours] + s->charged[kCpuHours]);
        // Exactly once, whatever a retry says.
        absl::StatusOr<Settlement> again = ledger.Settle(job, ResourceVector{}, ran, clock.Now());
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(*again, *s);
        ++settled;
      } else {
        ASSERT_TRUE(ledger.Release(job).ok());
        ++released;
      }
      held.erase(it);
    }

    // Invariants after every step.
    ResourceVector charged_in_grants;
    for (const std::string& project : projects) {
      for (const GrantStatus& g : ledger.Grants(project, clock.Now())) {
        ASSERT_FALSE(g.charged.is_negative());
        ASSERT_LE(g.charged, g.grant.amount) << "grant " << g.grant.id << " overcharged";
        charged_in_grants[g.grant.resource] += g.charged;
      }
      for (ResourceId r : {kGpuHours, kCpuHours}) {
        const ResourceBalance b = ledger.Balance(project, r, clock.Now());
        ASSERT_FALSE(b.available.is_negative());
        ASSERT_FALSE(b.reserved.is_negative());
        ASSERT_FALSE(b.lapsed.is_negative());
        ASSERT_EQ(b.available, MaxAmount(MilliUnits::Zero(), b.granted - b.charged - b.reserved));
        MilliUnits want_reserved;
        uint32_t want_holders = 0;
        for (const auto& [job, amount] : held) {
          if (ledger.FindReservation(job)->project != project) continue;
          want_reserved += amount[r];
          if (amount[r].is_positive()) ++want_holders;
        }
        ASSERT_EQ(b.reserved, want_reserved);
        ASSERT_EQ(b.holders, want_holders);
        if (!p.grants_expire && !p.overrun_allowed) {
          // Escrow: what is held is always backed by grants, before clamping.
          ASSERT_GE(b.granted - b.charged - b.reserved, MilliUnits::Zero());
        }
      }
    }
    ASSERT_EQ(charged_in_grants, total_charged);
  }
  EXPECT_EQ(ledger.reservation_count(), held.size());
  // The run exercised every path.
  EXPECT_GT(reserved_ok, 800);
  EXPECT_GT(settled, 400);
  EXPECT_GT(released, 250);
  std::cout << reserved_ok << " reserved, " << settled << " settled, " << released << " released\n";
}

INSTANTIATE_TEST_SUITE_P(Seeds, LedgerRandomTest,
                         ::testing::Values(Params{1, false, false}, Params{2, false, true},
                                           Params{3, true, false}, Params{4, true, true},
                                           Params{5, true, true}));

}  // namespace
}  // namespace drocc::quota
