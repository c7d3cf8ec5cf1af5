#include "runtime/tools/stage_progress.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/human.h"
#include "nlohmann/json.hpp"

namespace drocc::runtime::tool {
namespace {

// Bytes per second over `elapsed`, 0 before any time has passed.
double Rate(uint64_t bytes, absl::Duration elapsed) {
  const double s = absl::ToDoubleSeconds(elapsed);
  return s > 0 ? static_cast<double>(bytes) / s : 0;
}

std::string HumanRate(double bytes_per_s) {
  return absl::StrCat(HumanBytes(static_cast<uint64_t>(bytes_per_s)), "/s");
}

std::string Eta(const StageProgress& p) {
  if (p.final) return "done";
  const double rate = Rate(p.bytes_done, p.elapsed);
  if (rate <= 0 || p.bytes_done >= p.bytes_total) return "ETA -";
  const double left = static_cast<double>(p.bytes_total - p.bytes_done) / rate;
  return absl::StrCat("ETA ", HumanDuration(absl::Seconds(std::max(left, 1.0))));
}

int Percent(const StageProgress& p) {
  if (p.bytes_total == 0) return p.files_done >= p.files_total ? 100 : 0;
  return static_cast<int>(std::min<uint64_t>(100, p.bytes_done * 100 / p.bytes_total));
}

}  // namespace

std::string ProgressLine(const StageProgress& p) {
  return absl::StrFormat("%-9s %3d%%  %s / %s  %d / %d files  %s  %s", p.phase, Percent(p),
                         HumanBytes(p.bytes_done), HumanBytes(p.bytes_total), p.files_done,
                         p.files_total, HumanRate(Rate(p.bytes_done, p.elapsed)), Eta(p));
}

std::string ProgressBar(const StageProgress& p, int width) {
  const int filled = Percent(p) * width / 100;
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '.'), "] ",
                      ProgressLine(p));
}

std::string Summary(const std::string& direction, const StageStats& s) {
  std::string line = absl::StrFormat(
      "%s: %d files (%s) to %d node%s in %s (%s); %s read from the source", direction,
      s.files_copied, HumanBytes(s.bytes_copied), s.nodes, s.nodes == 1 ? "" : "s",
      absl::FormatDuration(absl::Milliseconds(absl::ToInt64Milliseconds(s.elapsed))),
      HumanRate(Rate(s.bytes_copied, s.elapsed)), HumanBytes(s.source_bytes_read));
  if (s.files_skipped > 0) {
    absl::StrAppendFormat(&line, "; %d files (%s) already there", s.files_skipped,
                          HumanBytes(s.bytes_skipped));
  }
  if (s.retries > 0)
    absl::StrAppendFormat(&line, "; %d sent again after a bad checksum", s.retries);
  return line;
}

std::string StatsJson(const std::string& direction, const StageStats& s) {
  const nlohmann::json j = {
      {"direction", direction},
      {"nodes", s.nodes},
      {"files_total", s.files_total},
      {"bytes_total", s.bytes_total},
      {"files_copied", s.files_copied},
      {"bytes_copied", s.bytes_copied},
      {"files_skipped", s.files_skipped},
      {"bytes_skipped", s.bytes_skipped},
      {"source_bytes_read", s.source_bytes_read},
      {"retries", s.retries},
      {"directories", s.directories},
      {"symlinks", s.symlinks},
      {"elapsed_s", absl::ToDoubleSeconds(s.elapsed)},
  };
  return j.dump();
}

void ProgressPrinter::operator()(const StageProgress& p) {
  if (terminal_) {
    // \r and clear to the end of the line: the bar is redrawn in place.
    std::fprintf(out_, "\r%s\033[K%s", ProgressBar(p, 24).c_str(), p.final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", ProgressLine(p).c_str());
  }
  std::fflush(out_);
}

}  // namespace drocc::runtime::tool
