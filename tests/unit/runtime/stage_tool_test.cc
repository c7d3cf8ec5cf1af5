// The text drocc-stage prints: progress lines, the terminal bar, the summary and the JSON.

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/tools/stage_progress.h"

namespace drocc::runtime::tool {
namespace {

StageProgress Halfway() {
  return {.phase = "stage-in",
          .bytes_done = uint64_t{512} << 20,
          .bytes_total = uint64_t{1} << 30,
          .files_done = 350,
          .files_total = 700,
          .elapsed = absl::Seconds(2)};
}

TEST(StageProgressTest, ALineSaysWhatIsDoneTheRateAndTheTimeLeft) {
  EXPECT_EQ(ProgressLine(Halfway()),
            "stage-in   50%  512.0 MiB / 1.0 GiB  350 / 700 files  256.0 MiB/s  ETA 2s");
}

TEST(StageProgressTest, NoEtaBeforeAnythingMovedAndDoneAtTheEnd) {
  StageProgress p = Halfway();
  p.bytes_done = 0;
  p.files_done = 0;
  EXPECT_EQ(ProgressLine(p), "stage-in    0%  0 B / 1.0 GiB  0 / 700 files  0 B/s  ETA -");
  p = Halfway();
  p.bytes_done = p.bytes_total;
  p.files_done = p.files_total;
  p.final = true;
  EXPECT_EQ(ProgressLine(p),
            "stage-in  100%  1.0 GiB / 1.0 GiB  700 / 700 files  512.0 MiB/s  done");
}

TEST(StageProgressTest, NothingToCopyIsAHundredPercent) {
  const StageProgress p{.phase = "stage-out", .final = true};
  EXPECT_EQ(ProgressLine(p), "stage-out 100%  0 B / 0 B  0 / 0 files  0 B/s  done");
}

TEST(StageProgressTest, TheBarFillsWithThePercentage) {
  EXPECT_EQ(ProgressBar(Halfway(), 10).substr(0, 13), "[#####.....] ");
}

TEST(StageProgressTest, TheSummaryNamesWhatMovedWhatWasReadAndWhatWasSkipped) {
  StageStats s{.nodes = 3,
               .files_total = 712,
               .bytes_total = (uint64_t{1} << 30) + (uint64_t{1} << 20),
               .files_copied = 700,
               .bytes_copied = uint64_t{1} << 30,
               .files_skipped = 12,
               .bytes_skipped = uint64_t{1} << 20,
               .source_bytes_read = uint64_t{1} << 30,
               .retries = 1,
               .elapsed = absl::Milliseconds(4000)};
  EXPECT_EQ(Summary("stage-in", s),
            "stage-in: 700 files (1.0 GiB) to 3 nodes in 4s (256.0 MiB/s); 1.0 GiB read from the "
            "source; 12 files (1.0 MiB) already there; 1 sent again after a bad checksum");
  s.files_skipped = 0;
  s.retries = 0;
  s.nodes = 1;
  EXPECT_EQ(Summary("stage-in", s),
            "stage-in: 700 files (1.0 GiB) to 1 node in 4s (256.0 MiB/s); 1.0 GiB read from the "
            "source");
}

TEST(StageProgressTest, TheJsonHasEveryStatistic) {
  const StageStats s{.nodes = 2,
                     .files_total = 5,
                     .bytes_total = 100,
                     .files_copied = 4,
                     .bytes_copied = 90,
                     .files_skipped = 1,
                     .bytes_skipped = 10,
                     .source_bytes_read = 90,
                     .retries = 0,
                     .directories = 3,
                     .symlinks = 1,
                     .elapsed = absl::Milliseconds(1500)};
  const auto j = nlohmann::json::parse(StatsJson("stage-in", s));
  EXPECT_EQ(j["direction"], "stage-in");
  EXPECT_EQ(j["nodes"], 2);
  EXPECT_EQ(j["files_total"], 5);
  EXPECT_EQ(j["bytes_total"], 100);
  EXPECT_EQ(j["files_copied"], 4);
  EXPECT_EQ(j["bytes_copied"], 90);
  EXPECT_EQ(j["files_skipped"], 1);
  EXPECT_EQ(j["bytes_skipped"], 10);
  EXPECT_EQ(j["source_bytes_read"], 90);
  EXPECT_EQ(j["retries"], 0);
  EXPECT_EQ(j["directories"], 3);
  EXPECT_EQ(j["symlinks"], 1);
  EXPECT_DOUBLE_EQ(j["elapsed_s"].get<double>(), 1.5);
}

TEST(StageProgressTest, ThePrinterRedrawsOnATerminalAndWritesLinesOtherwise) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  ASSERT_NE(f, nullptr);
  ProgressPrinter lines(f, /*terminal=*/false);
  lines(Halfway());
  ProgressPrinter bar(f, /*terminal=*/true);
  StageProgress last = Halfway();
  last.final = true;
  bar(last);
  std::fclose(f);
  const std::string text(buf, len);
  std::free(buf);
  EXPECT_EQ(text, ProgressLine(Halfway()) + "\n\r" + ProgressBar(last, 24) + "\033[K\n");
}

}  // namespace
}  // namespace drocc::runtime::tool
