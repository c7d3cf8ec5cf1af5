#include "client/cli/quota_output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace drocc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

v1::UsageRow Row(std::string project, std::string user, std::string month, int64_t milli,
                 uint32_t jobs) {
  v1::UsageRow r;
  r.set_project(std::move(project));
  r.set_user(std::move(user));
  r.set_month(std::move(month));
  r.mutable_amount()->set_resource("gpu-hours");
  r.mutable_amount()->set_milli(milli);
  r.set_jobs(jobs);
  return r;
}

TEST(UsageCsvTest, HeaderThenPlainDecimals) {
  Repeated<v1::UsageRow> rows;
  *rows.Add() = Row("ml", "alice", "2026-11", 1'250, 3);
  *rows.Add() = Row("ml", "", "", 40'000, 12);
  EXPECT_EQ(UsageCsv(rows),
            "project,user,month,resource,amount,jobs\n"
            "ml,alice,2026-11,gpu-hours,1.25,3\n"
            "ml,,,gpu-hours,40.0,12\n");
}

TEST(UsageCsvTest, QuotesFieldsThatNeedIt) {
  Repeated<v1::UsageRow> rows;
  *rows.Add() = Row("a,b", "o\"neil", "", 1, 1);
  EXPECT_EQ(UsageCsv(rows),
            "project,user,month,resource,amount,jobs\n"
            "\"a,b\",\"o\"\"neil\",,gpu-hours,0.001,1\n");
}

TEST(UsageCsvTest, NoRowsIsTheHeader) {
  EXPECT_EQ(UsageCsv({}), "project,user,month,resource,amount,jobs\n");
}

TEST(UsageJsonTest, ExactAmountsAndNullsForNoBreakdown) {
  Repeated<v1::UsageRow> rows;
  *rows.Add() = Row("ml", "", "", 52'500, 7);
  *rows.Add() = Row("ml", "bob", "2026-10", 500, 1);
  nlohmann::json j = UsageJson(rows);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0], (nlohmann::json{{"project", "ml"},
                                  {"user", nullptr},
                                  {"month", nullptr},
                                  {"resource", "gpu-hours"},
                                  {"amount_milli", 52'500},
                                  {"amount", "52.5"},
                                  {"jobs", 7}}));
  EXPECT_EQ(j[1]["user"], "bob");
  EXPECT_EQ(j[1]["month"], "2026-10");
  EXPECT_EQ(j[1]["amount"], "0.5");
  EXPECT_TRUE(UsageJson({}).is_array());
}

TEST(UsageTableTest, ColumnsFollowTheBreakdown) {
  Repeated<v1::UsageRow> rows;
  *rows.Add() = Row("ml", "", "", 52'500, 7);
  std::string t = UsageTable(rows);
  EXPECT_THAT(t, StartsWith("PROJECT  AMOUNT          JOBS\n"));
  EXPECT_THAT(t, HasSubstr("ml       52.5 gpu-hours  7\n"));

  *rows.Add() = Row("ml", "alice", "2026-11", 1'000, 1);
  t = UsageTable(rows);
  EXPECT_THAT(t, StartsWith("PROJECT  USER   MONTH    AMOUNT"));
  EXPECT_THAT(t, HasSubstr("(all)"));  // the first row: a total
  EXPECT_THAT(t, HasSubstr("alice  2026-11  1.0 gpu-hours"));
}

v1::Balance Bal(std::string project) {
  v1::Balance b;
  b.set_project(std::move(project));
  b.set_resource("gpu-hours");
  b.set_granted_milli(100'000);
  b.set_charged_milli(40'000);
  b.set_reserved_milli(7'500);
  b.set_available_milli(52'500);
  return b;
}

TEST(BalanceTableTest, AmountsWithUnitsAndOptionalColumns) {
  Repeated<v1::Balance> balances;
  *balances.Add() = Bal("ml");
  std::string t = BalanceTable(balances);
  EXPECT_THAT(t, HasSubstr("GRANTED"));
  EXPECT_THAT(t, HasSubstr("100.0 gpu-hours"));
  EXPECT_THAT(t, HasSubstr("52.5 gpu-hours"));
  EXPECT_THAT(t, Not(HasSubstr("OVERDRAFT")));
  EXPECT_THAT(t, Not(HasSubstr("NOT YET VALID")));
  EXPECT_THAT(t, Not(HasSubstr("within 30 days")));

  v1::Balance b = Bal("cfd");
  b.set_overdraft_milli(1'500);
  b.set_holders(2);
  b.set_expiring_soon_milli(10'000);
  *balances.Add() = b;
  t = BalanceTable(balances);
  EXPECT_THAT(t, HasSubstr("OVERDRAFT"));
  EXPECT_THAT(t, HasSubstr("1.5 gpu-hours"));
  EXPECT_THAT(t, HasSubstr("7.5 gpu-hours (2 jobs)"));
  EXPECT_THAT(t, HasSubstr("cfd: 10.0 gpu-hours in grants ending within 30 days"));
}

TEST(BalanceJsonTest, EveryAmountTwice) {
  Repeated<v1::Balance> balances;
  *balances.Add() = Bal("ml");
  nlohmann::json j = BalanceJson(balances);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["available_milli"], 52'500);
  EXPECT_EQ(j[0]["available"], "52.5");
  EXPECT_EQ(j[0]["overdraft_milli"], 0);
  EXPECT_TRUE(j[0]["next_expiry"].is_null());
}

TEST(GrantTest, SummaryAndJson) {
  v1::Grant g;
  g.set_id(7);
  g.set_project("ml");
  g.mutable_amount()->set_resource("gpu-hours");
  g.mutable_amount()->set_milli(2'000);
  g.set_reference("ERC-1");
  std::string s = GrantSummary(g);
  EXPECT_THAT(s, StartsWith("grant 7: 2.0 gpu-hours for project ml, valid from -"));
  EXPECT_THAT(s, HasSubstr("without end"));
  EXPECT_THAT(s, HasSubstr("reference ERC-1"));
  nlohmann::json j = GrantJson(g);
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["amount"], "2.0");
  EXPECT_EQ(j["used_milli"], 0);
  EXPECT_TRUE(j["valid_until"].is_null());
}

TEST(LimitTest, NoLimitShowsAsSuch) {
  v1::Limit l;
  l.set_project("ml");
  l.set_max_gpus(8);
  l.set_max_walltime_s(2 * 86400);
  EXPECT_EQ(LimitSummary(l),
            "limits of project ml: GPUs 8, CPUs no limit, nodes no limit, pending jobs no "
            "limit, walltime 2d");
  Repeated<v1::Limit> limits;
  *limits.Add() = l;
  EXPECT_THAT(LimitTable(limits), HasSubstr("ml       (whole project)  8         -"));
  EXPECT_TRUE(LimitJson(l)["user"].is_null());
}

TEST(EstimateTest, SaysWhyNot) {
  v1::EstimateJobResponse e;
  e.set_project("ml");
  v1::Amount* cost = e.add_cost();
  cost->set_resource("gpu-hours");
  cost->set_milli(8'000);
  v1::Amount* avail = e.add_available();
  avail->set_resource("gpu-hours");
  avail->set_milli(4'500);
  e.set_admissible_now(false);
  e.set_reason("needs 8.0 gpu-hours, 4.5 available");
  e.set_affordable_ever(true);
  std::string t = EstimateText(e);
  EXPECT_THAT(t, HasSubstr("Cost             8.0 gpu-hours\n"));
  EXPECT_THAT(t, HasSubstr("Available        4.5 gpu-hours (after current holds)\n"));
  EXPECT_THAT(t, HasSubstr("Admissible now   no: needs 8.0 gpu-hours, 4.5 available\n"));
  EXPECT_THAT(t, HasSubstr("Affordable ever  yes\n"));
  nlohmann::json j = EstimateJson(e);
  EXPECT_EQ(j["cost"][0]["amount_milli"], 8'000);
  EXPECT_EQ(j["available"][0]["amount"], "4.5");
  EXPECT_EQ(j["admissible_now"], false);
  EXPECT_EQ(j["affordable_ever"], true);
}

}  // namespace
}  // namespace drocc::cli
