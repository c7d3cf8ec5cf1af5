#include "daemon/quota/ledger.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::Day;
using testing::Gpu;
using testing::U;

class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() : clock_(Day(2026, 3, 1)) {}

  Grant GpuGrant(GrantId id, const std::string& amount, absl::Time from, absl::Time until,
                 const std::string& project = "ml") {
    return {.id = id,
            .project = project,
            .resource = kGpuHours,
            .amount = U(amount),
            .valid_from = from,
            .valid_until = until,
            .reference = "ref"};
  }
  void AddGpuGrant(GrantId id, const std::string& amount, absl::Time from, absl::Time until,
                   const std::string& project = "ml") {
    ASSERT_TRUE(ledger_.AddGrant(GpuGrant(id, amount, from, until, project)).ok());
  }
  ResourceBalance Gpus(const std::string& project = "ml") {
    return ledger_.Balance(project, kGpuHours, clock_.Now());
  }
  // Runs `job` for `d` ending now.
  absl::StatusOr<Settlement> SettleRun(JobId job, const std::string& amount, absl::Duration d) {
    return ledger_.Settle(job, Gpu(amount), {clock_.Now() - d, clock_.Now()}, clock_.Now());
  }

  FakeClock clock_;
  Ledger ledger_;
};

TEST_F(LedgerTest, GrantsStack) {
  AddGpuGrant(1, "300", Day(2026, 1, 1), Day(2026, 7, 1));
  AddGpuGrant(2, "200", Day(2026, 2, 1), Day(2026, 12, 1));
  AddGpuGrant(3, "1000", Day(2026, 6, 1), Day(2027, 1, 1));  // not valid yet
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.granted, U("500"));
  EXPECT_EQ(b.available, U("500"));
  EXPECT_EQ(b.upcoming, U("1000"));
  EXPECT_EQ(b.charged, MilliUnits::Zero());
  // One job may use both grants together.
  ASSERT_TRUE(ledger_.Reserve(7, "ml", Gpu("450"), clock_.Now()).ok());
  b = Gpus();
  EXPECT_EQ(b.reserved, U("450"));
  EXPECT_EQ(b.available, U("50"));
  EXPECT_EQ(b.holders, 1u);
}

TEST_F(LedgerTest, UsageDrawsFromTheGrantThatExpiresFirst) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 12, 1));
  AddGpuGrant(2, "100", Day(2026, 1, 1), Day(2026, 5, 1));  // expires first, added second
  AddGpuGrant(3, "100", Day(2026, 1, 1), Day(2026, 5, 1));  // same expiry: lower id first
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("30"), clock_.Now()).ok());
  clock_.Advance(absl::Hours(2));
  absl::StatusOr<Settlement> s = SettleRun(1, "30", absl::Hours(1));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->draws, (std::vector<GrantDraw>{{2, kGpuHours, U("30")}}));
  std::vector<GrantStatus> grants = ledger_.Grants("ml", clock_.Now());
  ASSERT_EQ(grants.size(), 3u);
  EXPECT_EQ(grants[0].grant.id, 2u);  // draw order
  EXPECT_EQ(grants[0].charged, U("30"));
  EXPECT_EQ(grants[1].grant.id, 3u);
  EXPECT_EQ(grants[1].charged, MilliUnits::Zero());
  EXPECT_EQ(grants[2].grant.id, 1u);
}

TEST_F(LedgerTest, SettleAtTheBoundaryOfTwoGrantsSpillsIntoTheNext) {
  AddGpuGrant(1, "10", Day(2026, 1, 1), Day(2026, 4, 1));
  AddGpuGrant(2, "100", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("8"), clock_.Now()).ok());
  ASSERT_TRUE(ledger_.Reserve(2, "ml", Gpu("8"), clock_.Now()).ok());
  clock_.Advance(absl::Hours(3));
  ASSERT_TRUE(SettleRun(1, "8", absl::Hours(2)).ok());
  absl::StatusOr<Settlement> s = SettleRun(2, "8", absl::Hours(2));
  ASSERT_TRUE(s.ok());
  // Grant 1 had 2.0 left: the rest comes from grant 2.
  EXPECT_EQ(s->draws, (std::vector<GrantDraw>{{1, kGpuHours, U("2")}, {2, kGpuHours, U("6")}}));
  EXPECT_EQ(s->charged, Gpu("8"));
  EXPECT_EQ(s->overdraft, ResourceVector{});
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.granted, U("110"));
  EXPECT_EQ(b.charged, U("16"));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
  EXPECT_EQ(b.available, U("94"));
}

TEST_F(LedgerTest, SettleShorterThanReservedReturnsTheUnusedPart) {
  AddGpuGrant(1, "52.5", Day(2026, 1, 1), Day(2026, 7, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("40"), clock_.Now()).ok());
  EXPECT_EQ(Gpus().available, U("12.5"));
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<Settlement> s = SettleRun(1, "12.25", absl::Hours(1));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->reserved, Gpu("40"));
  EXPECT_EQ(s->charged, Gpu("12.25"));
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.charged, U("12.25"));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
  EXPECT_EQ(b.available, U("40.25"));
  EXPECT_EQ(b.holders, 0u);
  EXPECT_EQ(ledger_.reservation_count(), 0u);
}

TEST_F(LedgerTest, WhatIsLeftInAnExpiredGrantLapsesAndIsReported) {
  AddGpuGrant(1, "500", Day(2026, 1, 1), Day(2026, 7, 1));
  AddGpuGrant(2, "100", Day(2026, 1, 1), Day(2026, 12, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("120"), clock_.Now()).ok());
  clock_.Advance(absl::Hours(10));
  ASSERT_TRUE(SettleRun(1, "120", absl::Hours(10)).ok());
  clock_.Set(Day(2026, 6, 30));
  ResourceBalance before = Gpus();
  EXPECT_EQ(before.granted, U("600"));
  EXPECT_EQ(before.expiring_soon, U("380"));  // grant 1 ends within 30 days
  EXPECT_EQ(before.lapsed, MilliUnits::Zero());
  clock_.Set(Day(2026, 7, 1));  // valid_until is exclusive
  ResourceBalance after = Gpus();
  EXPECT_EQ(after.granted, U("100"));
  EXPECT_EQ(after.charged, MilliUnits::Zero());
  EXPECT_EQ(after.available, U("100"));
  EXPECT_EQ(after.lapsed, U("380"));
  EXPECT_EQ(after.expiring_soon, MilliUnits::Zero());
  std::vector<GrantStatus> grants = ledger_.Grants("ml", clock_.Now());
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[0].grant.id, 1u);
  EXPECT_FALSE(grants[0].active);
  EXPECT_EQ(grants[0].charged, U("120"));
  EXPECT_EQ(grants[0].lapsed, U("380"));
  EXPECT_TRUE(grants[1].active);
  EXPECT_EQ(grants[1].lapsed, MilliUnits::Zero());
  // A job now cannot draw from the lapsed grant.
  EXPECT_FALSE(ledger_.Reserve(2, "ml", Gpu("101"), clock_.Now()).ok());
}

TEST_F(LedgerTest, UsageAfterAGrantExpiredCannotDrawFromIt) {
  // A 10-hour job runs from 20:00 before grant 1 ends at midnight: 4 h inside it, 6 h after.
  AddGpuGrant(1, "500", Day(2026, 1, 1), Day(2026, 3, 2));
  AddGpuGrant(2, "3", Day(2026, 1, 1), Day(2026, 9, 1));
  clock_.Set(Day(2026, 3, 2) - absl::Hours(4));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("10"), clock_.Now()).ok());
  clock_.Advance(absl::Hours(10));
  absl::StatusOr<Settlement> s = SettleRun(1, "10", absl::Hours(10));
  ASSERT_TRUE(s.ok()) << s.status();
  // 4.0 from the grant that was active then; of the 6.0 after, grant 2 pays 3.0 and 3.0 is
  // an overdraft: recorded, and the job was never stopped.
  EXPECT_EQ(s->draws, (std::vector<GrantDraw>{{1, kGpuHours, U("4")}, {2, kGpuHours, U("3")}}));
  EXPECT_EQ(s->charged, Gpu("7"));
  EXPECT_EQ(s->overdraft, Gpu("3"));
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.overdraft, U("3"));
  EXPECT_EQ(b.available, MilliUnits::Zero());
  EXPECT_EQ(b.lapsed, U("496"));
}

TEST_F(LedgerTest, ALateSettleChargesTheGrantActiveWhenTheJobRan) {
  // droccd was down when the job ended; it settles a week later, after grant 1 ended. The
  // result is the same as an on-time settle.
  AddGpuGrant(1, "50", Day(2026, 1, 1), Day(2026, 3, 2));
  AddGpuGrant(2, "50", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("5"), clock_.Now()).ok());
  const UsageWindow ran{clock_.Now(), clock_.Now() + absl::Hours(5)};
  clock_.Set(Day(2026, 3, 9));
  absl::StatusOr<Settlement> s = ledger_.Settle(1, Gpu("5"), ran, clock_.Now());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->draws, (std::vector<GrantDraw>{{1, kGpuHours, U("5")}}));
  EXPECT_EQ(Gpus().lapsed, U("45"));
}

TEST_F(LedgerTest, SettleIsExactlyOnce) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("10"), clock_.Now()).ok());
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<Settlement> first = SettleRun(1, "6", absl::Hours(1));
  ASSERT_TRUE(first.ok());
  const ResourceBalance after_first = Gpus();
  EXPECT_EQ(after_first.charged, U("6"));
  clock_.Advance(absl::Hours(1));
  // A retry after a crash, even with other numbers, changes nothing and says what happened.
  absl::StatusOr<Settlement> second = SettleRun(1, "9", absl::Hours(2));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(Gpus(), after_first);
  ASSERT_NE(ledger_.FindSettlement(1), nullptr);
  EXPECT_EQ(ledger_.FindSettlement(1)->charged, Gpu("6"));
  EXPECT_EQ(ledger_.FindReservation(1), nullptr);
  EXPECT_EQ(ledger_.Release(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_.Reserve(1, "ml", Gpu("1"), clock_.Now()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Gpus(), after_first);
}

TEST_F(LedgerTest, ReleaseDropsTheReservationWithoutACharge) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("60"), clock_.Now()).ok());
  EXPECT_EQ(ledger_.Reserve(1, "ml", Gpu("1"), clock_.Now()).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Gpus().available, U("40"));
  ASSERT_TRUE(ledger_.Release(1).ok());
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.available, U("100"));
  EXPECT_EQ(b.charged, MilliUnits::Zero());
  EXPECT_EQ(b.holders, 0u);
  EXPECT_EQ(ledger_.Release(1).code(), absl::StatusCode::kNotFound);
  // A released job may be admitted again (it was requeued before it ran).
  EXPECT_TRUE(ledger_.Reserve(1, "ml", Gpu("60"), clock_.Now()).ok());
  EXPECT_EQ(SettleRun(99, "1", absl::Hours(1)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, ReserveIsAllOrNothingAndSaysWhyWithNumbers) {
  AddGpuGrant(1, "52.5", Day(2026, 1, 1), Day(2026, 9, 1));
  for (JobId job : {1, 2, 3}) {
    ASSERT_TRUE(ledger_.Reserve(job, "ml", Gpu(job == 3 ? "20" : "10"), clock_.Now()).ok());
  }
  absl::Status s = ledger_.Reserve(4, "ml", Gpu("12.6"), clock_.Now());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "job 4 of project \"ml\" cannot be admitted: waiting for budget: 3 running jobs "
            "reserve 40.0 of the remaining 52.5 gpu-hours");
  EXPECT_EQ(ledger_.FindReservation(4), nullptr);
  EXPECT_EQ(Gpus().reserved, U("40"));
  // Exactly what is left fits.
  EXPECT_TRUE(ledger_.Reserve(4, "ml", Gpu("12.5"), clock_.Now()).ok());
  EXPECT_EQ(Gpus().available, MilliUnits::Zero());
  EXPECT_FALSE(ledger_.Reserve(5, "ml", Gpu("0.001"), clock_.Now()).ok());

  // Two resources: the cpu-hours shortfall means no gpu-hours are held either.
  ASSERT_TRUE(ledger_
                  .AddGrant({.id = 2,
                             .project = "cfd",
                             .resource = kCpuHours,
                             .amount = U("10"),
                             .valid_until = Day(2027, 1, 1)})
                  .ok());
  AddGpuGrant(3, "10", Day(2026, 1, 1), Day(2027, 1, 1), "cfd");
  ResourceVector both = Gpu("1");
  both[kCpuHours] = U("11");
  s = ledger_.Reserve(6, "cfd", both, clock_.Now());
  EXPECT_EQ(s.message(),
            "job 6 of project \"cfd\" cannot be admitted: waiting for budget: the job needs "
            "11.0 of the remaining 10.0 cpu-hours");
  EXPECT_EQ(ledger_.Balance("cfd", kGpuHours, clock_.Now()).reserved, MilliUnits::Zero());
  EXPECT_EQ(ledger_.Reserve(7, "cfd", Gpu("-1"), clock_.Now()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, AProjectNeedsAnActiveGrantForWhatItUses) {
  EXPECT_EQ(ledger_.Reserve(1, "ml", Gpu("1"), clock_.Now()).message(),
            "job 1 of project \"ml\" cannot be admitted: waiting for a grant: no active grant "
            "for gpu-hours");
  ResourceVector cpu_only = testing::Vec(kCpuHours, "4");
  EXPECT_EQ(ledger_.Reserve(1, "ml", cpu_only, clock_.Now()).message(),
            "job 1 of project \"ml\" cannot be admitted: waiting for a grant: the project has "
            "no grant");
  // Funded in gpu-hours only: the CPUs beside the GPUs are free, the GPUs are not.
  AddGpuGrant(1, "10", Day(2026, 1, 1), Day(2026, 9, 1));
  ResourceVector mixed = Gpu("2");
  mixed[kCpuHours] = U("500");
  ASSERT_TRUE(ledger_.Reserve(1, "ml", mixed, clock_.Now()).ok());
  EXPECT_EQ(ledger_.FindReservation(1)->amount, Gpu("2"));
  EXPECT_EQ(ledger_.Balance("ml", kCpuHours, clock_.Now()).reserved, MilliUnits::Zero());
  // Funded in cpu-hours only: GPUs are always billed, so a GPU job needs a GPU grant.
  ASSERT_TRUE(ledger_
                  .AddGrant({.id = 2,
                             .project = "cfd",
                             .resource = kCpuHours,
                             .amount = U("1000"),
                             .valid_until = Day(2027, 1, 1)})
                  .ok());
  EXPECT_TRUE(ledger_.Reserve(2, "cfd", cpu_only, clock_.Now()).ok());
  EXPECT_EQ(ledger_.Reserve(3, "cfd", mixed, clock_.Now()).message(),
            "job 3 of project \"cfd\" cannot be admitted: waiting for a grant: no active grant "
            "for gpu-hours");
  // An expired grant is no grant.
  AddGpuGrant(3, "10", Day(2025, 1, 1), Day(2026, 1, 1), "old");
  EXPECT_EQ(ledger_.Reserve(4, "old", Gpu("1"), clock_.Now()).message(),
            "job 4 of project \"old\" cannot be admitted: waiting for a grant: no active grant "
            "for gpu-hours");
}

TEST_F(LedgerTest, BillingUnitsAreChargedByWeight) {
  absl::StatusOr<ResourceCatalog> catalog = ResourceCatalog::Create(
      {{.name = "su", .node_weight_milli = 0, .cpu_weight_milli = 250, .gpu_weight_milli = 8000}},
      {"su"});
  ASSERT_TRUE(catalog.ok());
  Ledger ledger(*catalog);
  const ResourceId su = *catalog->Find("su");
  ASSERT_TRUE(ledger
                  .AddGrant({.id = 1,
                             .project = "ml",
                             .resource = su,
                             .amount = U("100"),
                             .valid_until = Day(2027, 1, 1)})
                  .ok());
  // 2 GPUs + 8 CPUs for 3 h: (2×8 + 8×0.25) × 3 = 54 su; gpu-hours are not billed here.
  absl::StatusOr<ResourceVector> cost = catalog->Cost({1, 8, 2}, absl::Hours(3));
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ((*cost)[su], U("54"));
  ASSERT_TRUE(ledger.Reserve(1, "ml", *cost, clock_.Now()).ok());
  EXPECT_EQ(ledger.Balance("ml", su, clock_.Now()).available, U("46"));
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, clock_.Now()).reserved, MilliUnits::Zero());
  // It ran 1 h 30 m: half the cost.
  absl::StatusOr<ResourceVector> actual = catalog->Cost({1, 8, 2}, absl::Minutes(90));
  ASSERT_TRUE(actual.ok());
  absl::StatusOr<Settlement> s =
      ledger.Settle(1, *actual, {clock_.Now(), clock_.Now() + absl::Minutes(90)}, clock_.Now());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->charged[su], U("27"));
  EXPECT_EQ(s->charged[kGpuHours], MilliUnits::Zero());
  EXPECT_EQ(ledger.Balance("ml", su, clock_.Now()).available, U("73"));
  ASSERT_TRUE(ledger.Reserve(2, "ml", *cost, clock_.Now()).ok());
  EXPECT_EQ(ledger.Balance("ml", su, clock_.Now()).available, U("19"));
}

TEST_F(LedgerTest, SettleRejectsBadInputAndKeepsTheReservation) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("10"), clock_.Now()).ok());
  const absl::Time t = clock_.Now();
  EXPECT_EQ(ledger_.Settle(1, Gpu("-1"), {t, t}, t).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_.Settle(1, Gpu("1"), {t, t - absl::Seconds(1)}, t).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_.Settle(1, Gpu("1"), {absl::InfinitePast(), t}, t).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_NE(ledger_.FindReservation(1), nullptr);
  EXPECT_EQ(Gpus().reserved, U("10"));
  // A zero-length run draws from the grants active at that instant.
  absl::StatusOr<Settlement> s = ledger_.Settle(1, Gpu("0.001"), {t, t}, t);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->charged, Gpu("0.001"));
}

TEST_F(LedgerTest, SlicesOfAJobAcrossManyGrantsAddUpExactly) {
  // Six grants that end an hour apart, each with 1.0; a 7-hour job that used 6.997 in all.
  for (int g = 1; g <= 6; ++g) {
    AddGpuGrant(g, "1", Day(2026, 1, 1), clock_.Now() + absl::Hours(g));
  }
  ASSERT_TRUE(ledger_.Reserve(1, "ml", Gpu("5"), clock_.Now()).ok());
  const UsageWindow ran{clock_.Now(), clock_.Now() + absl::Hours(7)};
  absl::StatusOr<Settlement> s = ledger_.Settle(1, Gpu("6.997"), ran, ran.end);
  ASSERT_TRUE(s.ok());
  // Hour k's usage (0.999 or 1.0) can use grants 1..6 still active; the last hour none.
  EXPECT_EQ(s->charged[kGpuHours] + s->overdraft[kGpuHours], U("6.997"));
  EXPECT_GE(s->overdraft[kGpuHours], U("0.999"));
  MilliUnits drawn;
  for (const GrantDraw& d : s->draws) {
    EXPECT_LE(d.amount, U("1"));
    drawn += d.amount;
  }
  EXPECT_EQ(drawn, s->charged[kGpuHours]);
}

TEST_F(LedgerTest, AddGrantValidates) {
  AddGpuGrant(1, "1", Day(2026, 1, 1), Day(2026, 9, 1));
  EXPECT_EQ(ledger_.AddGrant(GpuGrant(1, "2", Day(2026, 1, 1), Day(2026, 9, 1))).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ledger_.AddGrant(GpuGrant(2, "0", Day(2026, 1, 1), Day(2026, 9, 1))).code(),
            absl::StatusCode::kInvalidArgument);
  Grant unknown = GpuGrant(3, "1", Day(2026, 1, 1), Day(2026, 9, 1));
  unknown.resource = 5;  // no billing unit 5 in the default catalog
  EXPECT_EQ(ledger_.AddGrant(unknown).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_.Balance("nobody", kGpuHours, clock_.Now()), ResourceBalance{});
  EXPECT_TRUE(ledger_.Grants("nobody", clock_.Now()).empty());
}

TEST_F(LedgerTest, UpdateGrantKeepsWhatWasChargedAndReordersTheDraws) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 12, 1));
  AddGpuGrant(2, "100", Day(2026, 1, 1), Day(2026, 9, 1));
  ASSERT_TRUE(ledger_.Reserve(7, "ml", Gpu("30"), clock_.Now()).ok());
  ASSERT_TRUE(SettleRun(7, "30", absl::Hours(1)).ok());  // from grant 2, which ends first
  EXPECT_EQ(ledger_.Grants("ml", clock_.Now())[0].charged, U("30"));
  // Ending grant 1 earlier than grant 2 makes it the first to draw from.
  Grant g1 = GpuGrant(1, "150", Day(2026, 1, 1), Day(2026, 6, 1));
  ASSERT_TRUE(ledger_.UpdateGrant(g1).ok());
  ASSERT_TRUE(ledger_.Reserve(8, "ml", Gpu("10"), clock_.Now()).ok());
  auto s = SettleRun(8, "10", absl::Hours(1));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->draws.size(), 1u);
  EXPECT_EQ(s->draws[0].grant, 1u);
  EXPECT_EQ(Gpus().granted, U("250"));
  // Not below what it was charged; not to another project or resource; not unknown.
  Grant g2 = GpuGrant(2, "20", Day(2026, 1, 1), Day(2026, 9, 1));
  EXPECT_EQ(ledger_.UpdateGrant(g2).code(), absl::StatusCode::kInvalidArgument);
  Grant moved = GpuGrant(2, "100", Day(2026, 1, 1), Day(2026, 9, 1), "other");
  EXPECT_EQ(ledger_.UpdateGrant(moved).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_.UpdateGrant(GpuGrant(9, "1", Day(2026, 1, 1), Day(2026, 9, 1))).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, RemoveGrantOnlyWhenNeverCharged) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 12, 1));
  AddGpuGrant(2, "50", Day(2026, 1, 1), Day(2026, 9, 1));
  AddGpuGrant(3, "10", Day(2026, 1, 1), Day(2026, 10, 1));
  ASSERT_TRUE(ledger_.Reserve(7, "ml", Gpu("5"), clock_.Now()).ok());
  ASSERT_TRUE(SettleRun(7, "5", absl::Hours(1)).ok());  // grant 2 pays
  EXPECT_EQ(ledger_.RemoveGrant(2).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ledger_.RemoveGrant(1).ok());
  EXPECT_EQ(ledger_.FindGrant(1), nullptr);
  EXPECT_EQ(ledger_.RemoveGrant(1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Gpus().granted, U("60"));
  // The remaining grants still draw in order after the removal moved them.
  ASSERT_TRUE(ledger_.Reserve(8, "ml", Gpu("50"), clock_.Now()).ok());
  auto s = SettleRun(8, "50", absl::Hours(1));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->overdraft[kGpuHours], U("0"));
  EXPECT_EQ(Gpus().charged, U("55"));
  EXPECT_EQ(Gpus().available, U("5"));
}

TEST_F(LedgerTest, RestoreRebuildsWhatAStoreRecorded) {
  AddGpuGrant(1, "100", Day(2026, 1, 1), Day(2026, 12, 1));
  ASSERT_TRUE(ledger_.RestoreCharge(1, U("30")).ok());
  EXPECT_EQ(ledger_.RestoreCharge(9, U("1")).code(), absl::StatusCode::kNotFound);
  ledger_.RestoreOverdraft("ml", kGpuHours, U("2"));
  // A reservation made earlier is restored even beyond what is available today.
  ASSERT_TRUE(ledger_.RestoreReservation({.job = 7, .project = "ml", .amount = Gpu("90")}).ok());
  EXPECT_EQ(ledger_.RestoreReservation({.job = 7, .project = "ml", .amount = Gpu("1")}).code(),
            absl::StatusCode::kAlreadyExists);
  ResourceBalance b = Gpus();
  EXPECT_EQ(b.charged, U("30"));
  EXPECT_EQ(b.reserved, U("90"));
  EXPECT_EQ(b.available, MilliUnits::Zero());
  EXPECT_EQ(b.overdraft, U("2"));
  EXPECT_EQ(b.holders, 1u);
  // ... and settles like any other.
  auto s = SettleRun(7, "10", absl::Hours(1));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Gpus().charged, U("40"));
  EXPECT_EQ(Gpus().reserved, MilliUnits::Zero());
  ledger_.ForgetSettlement(7);
  EXPECT_EQ(ledger_.FindSettlement(7), nullptr);
}

TEST_F(LedgerTest, UndoSettleGivesTheDrawsAndOverdraftBack) {
  // Two grants and an overdraft in one settlement: the first grant ends an hour into the run.
  AddGpuGrant(1, "10", Day(2026, 1, 1), clock_.Now() - absl::Hours(1));
  AddGpuGrant(2, "5", Day(2026, 1, 1), Day(2026, 12, 1));
  ASSERT_TRUE(ledger_.RestoreReservation({.job = 7, .project = "ml", .amount = Gpu("12")}).ok());
  auto s = SettleRun(7, "20", absl::Hours(2));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->draws.size(), 2u);
  ASSERT_EQ(s->overdraft[kGpuHours], U("5"));
  const ResourceBalance before_undo = Gpus();
  EXPECT_EQ(before_undo.overdraft, U("5"));

  ASSERT_TRUE(ledger_.UndoSettle(*s).ok());
  for (const GrantStatus& g : ledger_.Grants("ml", clock_.Now())) {
    EXPECT_EQ(g.charged, MilliUnits::Zero()) << "grant " << g.grant.id;
  }
  EXPECT_EQ(Gpus().overdraft, MilliUnits::Zero());
  EXPECT_EQ(ledger_.FindSettlement(7), nullptr);
  EXPECT_EQ(Gpus().reserved, MilliUnits::Zero());  // not held again: RestoreReservation's job
  // The job can hold and settle again, to the same result.
  ASSERT_TRUE(ledger_.RestoreReservation({.job = 7, .project = "ml", .amount = Gpu("12")}).ok());
  auto again = SettleRun(7, "20", absl::Hours(2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->draws, s->draws);
  EXPECT_EQ(Gpus(), before_undo);
}

TEST_F(LedgerTest, UndoSettleOfADrawTheGrantNoLongerHoldsChangesNothing) {
  AddGpuGrant(1, "10", Day(2026, 1, 1), Day(2026, 12, 1));
  ASSERT_TRUE(ledger_.Reserve(7, "ml", Gpu("4"), clock_.Now()).ok());
  auto s = SettleRun(7, "4", absl::Hours(1));
  ASSERT_TRUE(s.ok());
  Settlement bigger = *s;
  bigger.draws[0].amount = U("5");
  EXPECT_EQ(ledger_.UndoSettle(bigger).code(), absl::StatusCode::kFailedPrecondition);
  Settlement elsewhere = *s;
  elsewhere.draws[0].grant = 9;
  EXPECT_EQ(ledger_.UndoSettle(elsewhere).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Gpus().charged, U("4"));
  EXPECT_NE(ledger_.FindSettlement(7), nullptr);
}

}  // namespace
}  // namespace drocc::quota

namespace drocc::quota {
namespace {

// The worked example of docs/quota.md, number for number.
TEST(LedgerDocsTest, WorkedExampleForAGrantOfficer) {
  using testing::Day;
  using testing::Gpu;
  using testing::U;
  ResourceCatalog catalog;
  Ledger ledger(catalog);
  ASSERT_TRUE(ledger
                  .AddGrant({.id = 1,
                             .project = "ml",
                             .resource = kGpuHours,
                             .amount = U("500"),
                             .valid_from = Day(2026, 1, 1),
                             .valid_until = Day(2026, 7, 1)})
                  .ok());
  const absl::Time a_start = Day(2026, 6, 2) + absl::Hours(9);
  absl::StatusOr<ResourceVector> a_cost = catalog.Cost({2, 2, 8}, absl::Hours(24));
  ASSERT_TRUE(a_cost.ok());
  EXPECT_EQ((*a_cost)[kGpuHours], U("192"));
  ASSERT_TRUE(ledger.Reserve(1, "ml", *a_cost, a_start).ok());
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, a_start).available, U("308"));
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, a_start).expiring_soon, U("500"));
  const absl::Time a_end = a_start + absl::Minutes(630);
  absl::StatusOr<ResourceVector> a_used = catalog.Cost({2, 2, 8}, a_end - a_start);
  ASSERT_TRUE(ledger.Settle(1, *a_used, {a_start, a_end}, a_end).ok());
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, a_end).charged, U("84"));
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, a_end).available, U("416"));

  const absl::Time b_start = Day(2026, 6, 29) + absl::Hours(12);
  ASSERT_TRUE(ledger.Reserve(2, "ml", *catalog.Cost({1, 1, 4}, absl::Hours(48)), b_start).ok());
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, b_start).available, U("224"));
  EXPECT_EQ(ledger.Balance("ml", kGpuHours, Day(2026, 7, 1)).available, MilliUnits::Zero());
  const absl::Time b_end = Day(2026, 7, 1) + absl::Hours(4);
  absl::StatusOr<Settlement> b =
      ledger.Settle(2, *catalog.Cost({1, 1, 4}, b_end - b_start), {b_start, b_end}, b_end);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->actual, Gpu("160"));
  EXPECT_EQ(b->charged, Gpu("144"));
  EXPECT_EQ(b->overdraft, Gpu("16"));
  const ResourceBalance after = ledger.Balance("ml", kGpuHours, b_end);
  EXPECT_EQ(after.lapsed, U("272"));
  EXPECT_EQ(after.overdraft, U("16"));
  EXPECT_EQ(after.reserved, MilliUnits::Zero());
  EXPECT_EQ(ledger.Grants("ml", b_end)[0].charged, U("228"));
}

}  // namespace
}  // namespace drocc::quota
