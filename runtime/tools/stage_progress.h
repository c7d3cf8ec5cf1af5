#pragma once

// How drocc-stage shows staging progress on stderr (docs/staging.md, "The drocc-stage tool"):
// a bar redrawn in place on a terminal, or a line at most every few seconds in a batch job's
// output, and a summary at the end. Kept apart from main() so tests can check the text.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "drocc/runtime/staging.h"

namespace drocc::runtime::tool {

// "stage-in   45%  1.2 GiB / 2.6 GiB  312 / 700 files  410.0 MiB/s  ETA 3s": what is done,
// the mean rate since the start and, from it, the time left ("ETA -" until something moved).
std::string ProgressLine(const StageProgress& p);

// The terminal form: ProgressLine after a bar of `width` cells ("[#####.....]").
std::string ProgressBar(const StageProgress& p, int width);

// The closing summary of a successful call, one line:
// "stage-in: 700 files (2.6 GiB) to 3 nodes in 6.3s (412.0 MiB/s); 2.6 GiB read from the
//  source; 12 files (1.0 MiB) already there; 0 resent"
std::string Summary(const std::string& direction, const StageStats& s);

// The stats as one JSON object (the field names of StageStats, elapsed as "elapsed_s").
std::string StatsJson(const std::string& direction, const StageStats& s);

// Prints progress from StageOptions::on_progress: on a terminal a bar redrawn in place (and a
// newline after the final one), otherwise a line per call. Writes to a FILE* (stderr).
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}
  void operator()(const StageProgress& p);

 private:
  std::FILE* out_;
  bool terminal_;
};

}  // namespace drocc::runtime::tool
