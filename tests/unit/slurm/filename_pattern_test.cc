#include "daemon/slurm/filename_pattern.h"

#include <gtest/gtest.h>

namespace drocc::slurm {
namespace {

OutputPatternValues Values() {
  OutputPatternValues v;
  v.slurm_job_id = 42;
  v.job_name = "train";
  v.user = "alice";
  v.node = "n2";
  v.workdir = "/home/alice/run";
  return v;
}

std::string Expand(std::string_view pattern) { return ExpandOutputPattern(pattern, Values()); }

TEST(FilenamePatternTest, DefaultPatternLandsInTheWorkDir) {
  EXPECT_EQ(Expand(kDefaultOutputPattern), "/home/alice/run/slurm-42.out");
}

TEST(FilenamePatternTest, EachSymbol) {
  EXPECT_EQ(Expand("/o/%j"), "/o/42");
  EXPECT_EQ(Expand("/o/%J"), "/o/42");  // no ".<step>" for the batch step
  EXPECT_EQ(Expand("/o/%A"), "/o/42");  // not an array: the job id
  EXPECT_EQ(Expand("/o/%a"), "/o/4294967294");
  EXPECT_EQ(Expand("/o/%s"), "/o/batch");
  EXPECT_EQ(Expand("/o/%n"), "/o/0");
  EXPECT_EQ(Expand("/o/%t"), "/o/0");
  EXPECT_EQ(Expand("/o/%N"), "/o/n2");
  EXPECT_EQ(Expand("/o/%u"), "/o/alice");
  EXPECT_EQ(Expand("/o/%x"), "/o/train");
  EXPECT_EQ(Expand("/o/100%%"), "/o/100%");
  EXPECT_EQ(Expand("/o/%x-%u@%N.%j.log"), "/o/train-alice@n2.42.log");
}

TEST(FilenamePatternTest, ZeroPadding) {
  EXPECT_EQ(Expand("/o/%4j"), "/o/0042");
  EXPECT_EQ(Expand("/o/%1j"), "/o/42");  // narrower than the value: no cut
  EXPECT_EQ(Expand("/o/%0j"), "/o/42");
  EXPECT_EQ(Expand("/o/%10j"), "/o/0000000042");
  EXPECT_EQ(Expand("/o/%12j"), "/o/0000000042");  // at most 10 wide
  EXPECT_EQ(Expand("/o/%99999999999999999999j"), "/o/0000000042");
  EXPECT_EQ(Expand("/o/%3n-%2t"), "/o/000-00");
  EXPECT_EQ(Expand("/o/%5J"), "/o/00042");
  // Width is ignored for names.
  EXPECT_EQ(Expand("/o/%8x-%8u-%8N-%8s"), "/o/train-alice-n2-batch");
}

// Checked against slurmstepd 22.05 on the dev cluster:
// "o-%x-%4s-%%-%5z-%z-%12j-%J-%3" became "o-exp-batch-%-5z-%z-0000000036-36-3".
TEST(FilenamePatternTest, OddInputAsSlurmDoesIt) {
  EXPECT_EQ(Expand("/o/%z"), "/o/%z");   // unknown symbol kept
  EXPECT_EQ(Expand("/o/%5z"), "/o/5z");  // unknown after a width: the '%' goes
  EXPECT_EQ(Expand("/o/x%"), "/o/x%");   // a lone '%' at the end
  EXPECT_EQ(Expand("/o/x%3"), "/o/x3");  // a width at the end keeps its last digit
  EXPECT_EQ(Expand("/o/x%12"), "/o/x2");
  EXPECT_EQ(Expand("/o/%%j"), "/o/%j");  // "%%" first, then a plain 'j'
  EXPECT_EQ(Expand("/o/%%%j"), "/o/%42");
  EXPECT_EQ(Expand("/o/%5%j"), "/o/542");
  EXPECT_EQ(Expand("o-%x-%4s-%%-%5z-%z-%12j-%J-%3"),
            "/home/alice/run/o-train-batch-%-5z-%z-0000000042-42-3");
}

TEST(FilenamePatternTest, BackslashDisablesExpansion) {
  EXPECT_EQ(Expand("/o/out\\%j.txt"), "/o/out%j.txt");
  EXPECT_EQ(Expand("/o/a\\\\b-%j"), "/o/a\\b-%j");  // "\\" is one backslash
  EXPECT_EQ(Expand("/o/%x\\"), "/o/%x");
  // Relative: Slurm appends it to the work dir without a '/' (seen on the dev cluster:
  // 'esc\%j.err' in /tmp/slx-exp/wd was written as /tmp/slx-exp/wdesc%j.err).
  EXPECT_EQ(Expand("esc\\%j.err"), "/home/alice/runesc%j.err");
}

TEST(FilenamePatternTest, RelativeAndAbsolute) {
  EXPECT_EQ(Expand("out-%j.txt"), "/home/alice/run/out-42.txt");
  EXPECT_EQ(Expand("logs/%x/%j.out"), "/home/alice/run/logs/train/42.out");
  EXPECT_EQ(Expand("/scratch/%u/%j.out"), "/scratch/alice/42.out");
  OutputPatternValues v = Values();
  v.workdir = "/home/alice/run/";  // no doubled slash
  EXPECT_EQ(ExpandOutputPattern("a.out", v), "/home/alice/run/a.out");
  v.workdir = "/";
  EXPECT_EQ(ExpandOutputPattern("a.out", v), "/a.out");
}

TEST(FilenamePatternTest, FirstNodeName) {
  EXPECT_EQ(FirstNodeName(""), "");
  EXPECT_EQ(FirstNodeName("n1"), "n1");
  EXPECT_EQ(FirstNodeName("n[1-3]"), "n1");
  EXPECT_EQ(FirstNodeName("n[3-5,7],m1"), "n3");
  EXPECT_EQ(FirstNodeName("n[7,9]"), "n7");
  EXPECT_EQ(FirstNodeName("gpu[01-04]"), "gpu01");
  EXPECT_EQ(FirstNodeName("a1,b2"), "a1");
  EXPECT_EQ(FirstNodeName("rack[1-2]-n[3-4]"), "rack1-n3");
}

}  // namespace
}  // namespace drocc::slurm
