#include "daemon/quota/resources.h"

#include <gtest/gtest.h>

#include "daemon/queue/job.h"
#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::U;

TEST(RequestedResourcesTest, FollowsSbatchDefaults) {
  struct Case {
    const char* what;
    queue::JobSpec spec;
    JobResources want;
  };
  const Case cases[] = {
      {"nothing given: one task on one node", {}, {1, 1, 0}},
      {"ntasks × cpus_per_task", {.nodes = 2, .ntasks = 8, .cpus_per_task = 4}, {2, 32, 0}},
      {"ntasks_per_node × nodes", {.nodes = 3, .ntasks_per_node = 4}, {3, 12, 0}},
      {"one task per node by default", {.nodes = 4, .cpus_per_task = 2}, {4, 8, 0}},
      {"gpus = nodes × gpus_per_node", {.nodes = 2, .gpus_per_node = 4}, {2, 2, 8}},
      {"ntasks wins over ntasks_per_node",
       {.nodes = 2, .ntasks = 3, .ntasks_per_node = 8},
       {2, 3, 0}},
      {"saturates",
       {.nodes = 100'000, .ntasks = 100'000, .cpus_per_task = 100'000, .gpus_per_node = 100'000},
       {100'000, UINT32_MAX, UINT32_MAX}},
  };
  for (const Case& c : cases) EXPECT_EQ(RequestedResources(c.spec), c.want) << c.what;
}

TEST(ResourceCostTest, IsResourcesTimesHoursRoundedUpToAMilliUnit) {
  ResourceCatalog catalog;
  struct Case {
    const char* what;
    JobResources res;
    absl::Duration d;
    const char* gpu;
    const char* cpu;
    const char* node;
  };
  const Case cases[] = {
      {"4 GPUs for 2h 30m", {1, 8, 4}, absl::Minutes(150), "10", "20", "2.5"},
      {"one second of one GPU rounds up", {1, 1, 1}, absl::Seconds(1), "0.001", "0.001", "0.001"},
      {"3.6 s is billed as 4 whole seconds",
       {1, 1, 1},
       absl::Milliseconds(3600),
       "0.002",
       "0.002",
       "0.002"},
      {"7 s of 1 GPU: 7/3600 h = 0.00194.. → 0.002",
       {1, 1, 1},
       absl::Seconds(7),
       "0.002",
       "0.002",
       "0.002"},
      {"18 s of 1 GPU = 0.005 exactly", {1, 1, 1}, absl::Seconds(18), "0.005", "0.005", "0.005"},
      {"zero time is free", {2, 64, 8}, absl::ZeroDuration(), "0", "0", "0"},
      {"16 nodes × 8 GPUs for 3 days", {16, 1024, 128}, absl::Hours(72), "9216", "73728", "1152"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ResourceVector> cost = catalog.Cost(c.res, c.d);
    ASSERT_TRUE(cost.ok()) << c.what << ": " << cost.status();
    EXPECT_EQ((*cost)[kGpuHours], U(c.gpu)) << c.what;
    EXPECT_EQ((*cost)[kCpuHours], U(c.cpu)) << c.what;
    EXPECT_EQ((*cost)[kNodeHours], U(c.node)) << c.what;
  }
}

TEST(ResourceCostTest, RoundingNeverLetsAShorterRunCostMore) {
  ResourceCatalog catalog;
  const JobResources res{3, 7, 5};
  MilliUnits previous;
  for (int s = 0; s < 20'000; s += 7) {
    absl::StatusOr<ResourceVector> cost = catalog.Cost(res, absl::Seconds(s));
    ASSERT_TRUE(cost.ok());
    EXPECT_GE((*cost)[kGpuHours], previous) << s;
    // Never more than one milli-unit above the exact value 5 × s / 3600.
    const int64_t exact_times_3600 = int64_t{5000} * s;
    EXPECT_GE((*cost)[kGpuHours].milli() * 3600, exact_times_3600);
    EXPECT_LT((*cost)[kGpuHours].milli() * 3600, exact_times_3600 + 3600);
    previous = (*cost)[kGpuHours];
  }
}

TEST(ResourceCostTest, BillingUnitsWeighEachResource) {
  // Like TRESBillingWeights="Node=0.5,CPU=0.25,GRES/gpu=8.0".
  absl::StatusOr<ResourceCatalog> catalog = ResourceCatalog::Create({{.name = "billing-hours",
                                                                      .node_weight_milli = 500,
                                                                      .cpu_weight_milli = 250,
                                                                      .gpu_weight_milli = 8000}});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ASSERT_EQ(catalog->size(), 4u);
  const ResourceId billing = *catalog->Find("billing-hours");
  EXPECT_EQ(billing, 3);
  EXPECT_EQ(catalog->Name(billing), "billing-hours");
  // 2 nodes, 10 CPUs, 4 GPUs for 90 minutes: (2×0.5 + 10×0.25 + 4×8) × 1.5 = 35.5 × 1.5.
  absl::StatusOr<ResourceVector> cost = catalog->Cost({2, 10, 4}, absl::Minutes(90));
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ((*cost)[billing], U("53.25"));
  EXPECT_EQ((*cost)[kGpuHours], U("6"));
  // Rounded once, at the end: 1 CPU × 0.25 for 1 s = 0.0000694.. → 0.001 (not 0 per factor).
  cost = catalog->Cost({0, 1, 0}, absl::Seconds(1));
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ((*cost)[billing], U("0.001"));
  // 3 CPUs × 0.25 (0.75/h) for 2 h: exact sum 1.5, where rounding each CPU would give more.
  cost = catalog->Cost({0, 3, 0}, absl::Hours(2));
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ((*cost)[billing], U("1.5"));
}

TEST(ResourceCatalogTest, RejectsBadDefinitions) {
  struct Case {
    const char* what;
    std::vector<BillingUnit> units;
    std::vector<std::string> always_billed;
  };
  const std::vector<Case> cases = {
      {"duplicate", {{.name = "su"}, {.name = "su"}}, {}},
      {"shadows a built-in", {{.name = "gpu-hours"}}, {}},
      {"bad name", {{.name = "1su"}}, {}},
      {"empty name", {{.name = ""}}, {}},
      {"negative weight", {{.name = "su", .cpu_weight_milli = -1}}, {}},
      {"huge weight", {{.name = "su", .gpu_weight_milli = 2'000'000'000}}, {}},
      {"too many",
       {{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}, {.name = "e"}, {.name = "f"}},
       {}},
      {"unknown always-billed", {}, {"tpu-hours"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ResourceCatalog> catalog = ResourceCatalog::Create(c.units, c.always_billed);
    EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
  }
  absl::StatusOr<ResourceCatalog> five = ResourceCatalog::Create(
      {{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}, {.name = "e"}}, {"e"});
  ASSERT_TRUE(five.ok());
  EXPECT_TRUE(five->always_billed()[7]);
  EXPECT_FALSE(five->always_billed()[kGpuHours]);
}

TEST(ResourceCatalogTest, ParsesNamesAndListsTheKnownOnes) {
  ResourceCatalog catalog;
  EXPECT_EQ(catalog.Parse("cpu-hours").value(), kCpuHours);
  EXPECT_EQ(catalog.Parse("node-hours").value(), kNodeHours);
  absl::Status bad = catalog.Parse("tpu-hours").status();
  EXPECT_EQ(bad.message(),
            "unknown resource \"tpu-hours\"; use one of gpu-hours, cpu-hours, node-hours");
  EXPECT_TRUE(catalog.always_billed()[kGpuHours]);
  EXPECT_FALSE(catalog.always_billed()[kCpuHours]);
}

TEST(ResourceCostTest, RefusesNegativeInfiniteAndAbsurdCosts) {
  ResourceCatalog catalog;
  EXPECT_EQ(catalog.Cost({1, 1, 1}, absl::Seconds(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Cost({1, 1, 1}, absl::InfiniteDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Cost({UINT32_MAX, UINT32_MAX, UINT32_MAX}, absl::Hours(24 * 365 * 100))
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace drocc::quota
