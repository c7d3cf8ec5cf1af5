// The C API of staging (staging_c.h) in one process without MPI: its own error paths (NULL
// arguments, struct sizes, MPI not initialised), and serial stage-in/stage-out round trips
// with progress and stats. Many ranks: stage_c_mpi.c under stage_mpi_test.sh.

#include "drocc/runtime/staging_c.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "drocc/runtime/checkpoint_c.h"
#include "tests/unit/runtime/staging_fixture.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string LastError() { return drocc_stage_last_error(); }

drocc_stage_options_t Options() {
  drocc_stage_options_t o;
  EXPECT_EQ(drocc_stage_options_init(&o, sizeof o), DROCC_STAGE_OK);
  o.report_to_daemon = 0;
  return o;
}

drocc_stage_stats_t Stats() {
  drocc_stage_stats_t s;
  EXPECT_EQ(drocc_stage_stats_init(&s, sizeof s), DROCC_STAGE_OK);
  return s;
}

TEST(StagingCTest, CodesAndNamesAreThoseOfTheRuntime) {
  EXPECT_EQ(DROCC_STAGE_NOT_FOUND, static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(DROCC_STAGE_RESOURCE_EXHAUSTED, static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_STREQ(drocc_stage_status_name(DROCC_STAGE_DATA_LOSS), "DATA_LOSS");
  EXPECT_STREQ(drocc_stage_status_name(99), "UNKNOWN");
}

TEST(StagingCTest, OptionsInitSetsTheDefaultsOfTheCxxApi) {
  drocc_stage_options_t o = Options();
  EXPECT_EQ(o.struct_size, sizeof o);
  EXPECT_EQ(o.node_name, nullptr);
  EXPECT_EQ(o.chunk_bytes, uint64_t{1} << 20);
  EXPECT_EQ(o.io_threads, 4);
  EXPECT_EQ(o.verify_retries, 2);
  EXPECT_EQ(o.verify_existing, 0);
  EXPECT_EQ(o.on_progress, nullptr);
  EXPECT_EQ(o.progress_interval_seconds, 2.0);
  drocc_stage_options_t d;
  ASSERT_EQ(drocc_stage_options_init(&d, sizeof d), DROCC_STAGE_OK);
  EXPECT_EQ(d.report_to_daemon, 1);
}

TEST(StagingCTest, InitRefusesNullAndUnknownSizes) {
  drocc_stage_options_t o;
  EXPECT_EQ(drocc_stage_options_init(nullptr, sizeof o), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_stage_options_init: options is NULL"));
  EXPECT_EQ(drocc_stage_options_init(&o, 8), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("drocc/runtime/staging_c.h"));
  EXPECT_EQ(drocc_stage_options_init(&o, sizeof o + 8), DROCC_STAGE_INVALID_ARGUMENT);
  drocc_stage_stats_t s;
  EXPECT_EQ(drocc_stage_stats_init(nullptr, sizeof s), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_EQ(drocc_stage_stats_init(&s, 4), DROCC_STAGE_INVALID_ARGUMENT);
}

TEST(StagingCTest, BadArgumentsAreRefusedByName) {
  testing::TestDir dir;
  drocc_stage_options_t o = Options();
  drocc_stage_stats_t s = Stats();
  EXPECT_EQ(drocc_stage_in_serial(nullptr, "x", &o, &s), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_stage_in_serial: src is NULL"));
  EXPECT_EQ(drocc_stage_out_serial("x", nullptr, &o, &s), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), StartsWith("drocc_stage_out_serial: dst is NULL"));
  drocc_stage_options_t uninitialised{};
  EXPECT_EQ(drocc_stage_in_serial("x", "y", &uninitialised, &s), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("drocc_stage_options_init"));
  drocc_stage_stats_t no_size{};
  EXPECT_EQ(drocc_stage_in_serial("x", "y", &o, &no_size), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("drocc_stage_stats_init"));
  o.io_threads = 0;
  EXPECT_EQ(drocc_stage_in_serial("x", "y", &o, &s), DROCC_STAGE_INVALID_ARGUMENT);
  EXPECT_THAT(LastError(), HasSubstr("io_threads"));
  o = Options();
  o.progress_interval_seconds = -1;
  EXPECT_EQ(drocc_stage_in_serial("x", "y", &o, &s), DROCC_STAGE_INVALID_ARGUMENT);
  // The C++ API's own errors come through with their codes.
  o = Options();
  EXPECT_EQ(
      drocc_stage_in_serial((dir.path() + "/none").c_str(), (dir.path() + "/d").c_str(), &o, &s),
      DROCC_STAGE_NOT_FOUND);
  EXPECT_THAT(LastError(), HasSubstr("does not exist"));
  EXPECT_STREQ(drocc_ckpt_last_error(), drocc_stage_last_error());  // one message per thread
}

TEST(StagingCTest, OverMpiNeedsMpiInitialised) {
  // This test program never calls MPI_Init.
  EXPECT_EQ(drocc_stage_in("a", "b", nullptr, MPI_COMM_WORLD, nullptr),
            DROCC_STAGE_FAILED_PRECONDITION);
  EXPECT_THAT(LastError(), StartsWith("drocc_stage_in: MPI is not initialised"));
  EXPECT_THAT(LastError(), HasSubstr("_serial"));
  EXPECT_EQ(drocc_stage_out("a", "b", nullptr, MPI_COMM_WORLD, nullptr),
            DROCC_STAGE_FAILED_PRECONDITION);
}

TEST(StagingCTest, TheMessageIsPerThreadAndClearedBySuccess) {
  drocc_stage_stats_t s;
  EXPECT_EQ(drocc_stage_stats_init(&s, 1), DROCC_STAGE_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    drocc_stage_stats_t t;
    EXPECT_EQ(drocc_stage_stats_init(&t, sizeof t), DROCC_STAGE_OK);
    other = drocc_stage_last_error();
  }).join();
  EXPECT_EQ(other, "");
  EXPECT_THAT(LastError(), HasSubstr("struct_size"));
  EXPECT_EQ(drocc_stage_stats_init(&s, sizeof s), DROCC_STAGE_OK);
  EXPECT_EQ(LastError(), "");
}

struct Seen {
  std::vector<drocc_stage_progress_t> calls;
  std::vector<std::string> phases;
};

void OnProgress(const drocc_stage_progress_t* p, void* user) {
  auto* seen = static_cast<Seen*>(user);
  seen->calls.push_back(*p);
  seen->phases.emplace_back(p->phase);
}

TEST(StagingCTest, SerialStageInAndOutRoundTrip) {
  testing::TestDir dir;
  const std::string src = dir.path() + "/src";
  const testing::MixedTree tree = testing::MakeMixedTree(src, 40, 1);
  Seen seen;
  drocc_stage_options_t o = Options();
  o.node_name = "solo";
  o.on_progress = &OnProgress;
  o.on_progress_user_data = &seen;
  o.progress_interval_seconds = 0;
  drocc_stage_stats_t s = Stats();
  ASSERT_EQ(drocc_stage_in_serial(src.c_str(), (dir.path() + "/local/%n").c_str(), &o, &s),
            DROCC_STAGE_OK)
      << LastError();
  EXPECT_EQ(LastError(), "");
  EXPECT_THAT(testing::TreeDifferences(src, dir.path() + "/local/solo"), IsEmpty());
  EXPECT_EQ(s.struct_size, sizeof s);
  EXPECT_EQ(s.nodes, 1);
  EXPECT_EQ(s.files_total, tree.files);
  EXPECT_EQ(s.source_bytes_read, tree.bytes);
  EXPECT_EQ(s.directories, tree.directories);
  EXPECT_EQ(s.symlinks, tree.symlinks);
  EXPECT_GT(s.elapsed_seconds, 0);
  ASSERT_FALSE(seen.calls.empty());
  EXPECT_EQ(seen.calls.back().final, 1);
  EXPECT_EQ(seen.calls.back().bytes_done, tree.bytes);
  EXPECT_EQ(seen.phases.back(), "stage-in");

  ASSERT_EQ(drocc_stage_in_serial(src.c_str(), (dir.path() + "/local/%n").c_str(), &o, &s),
            DROCC_STAGE_OK);
  EXPECT_EQ(s.source_bytes_read, 0u);

  ASSERT_EQ(drocc_stage_out_serial((dir.path() + "/local/%n").c_str(),
                                   (dir.path() + "/shared/%n").c_str(), &o, nullptr),
            DROCC_STAGE_OK)
      << LastError();
  // The stage-in's .drocc-stage is staging's, not data: not staged out.
  EXPECT_THAT(testing::TreeDifferences(dir.path() + "/local/solo", dir.path() + "/shared/solo"),
              IsEmpty());
  EXPECT_FALSE(fs::exists(dir.path() + "/shared/solo/.drocc-stage"));
  EXPECT_EQ(seen.phases.back(), "stage-out");
  EXPECT_EQ(
      drocc_stage_in_serial(src.c_str(), (dir.path() + "/local/%n").c_str(), nullptr, nullptr),
      DROCC_STAGE_OK)
      << LastError();
}

TEST(StagingCTest, ASingleFileAndStatsInitZeroesTheStruct) {
  testing::TestDir dir;
  testing::WriteFile(dir.path() + "/f", "abc");
  drocc_stage_stats_t s;
  s.symlinks = 12345;
  ASSERT_EQ(drocc_stage_stats_init(&s, sizeof s), DROCC_STAGE_OK);
  EXPECT_EQ(s.symlinks, 0u);
  drocc_stage_options_t o = Options();
  ASSERT_EQ(drocc_stage_in_serial((dir.path() + "/f").c_str(), (dir.path() + "/g").c_str(), &o, &s),
            DROCC_STAGE_OK)
      << LastError();
  EXPECT_EQ(s.bytes_copied, 3u);
  EXPECT_EQ(testing::ReadFile(dir.path() + "/g"), "abc");
}

}  // namespace
}  // namespace drocc::runtime
