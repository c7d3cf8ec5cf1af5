#pragma once

// What a committed checkpoint was: what the Checkpointer passes to on_commit and what
// JobControl reports to droccd.

#include <cstdint>
#include <string>

namespace drocc::runtime {

struct CommitInfo {
  int64_t step = -1;
  uint64_t bytes = 0;  // all shards of all ranks (and the manifest)
  double seconds = 0;  // from the Save call to the commit in `directory`
  std::string path;    // <directory>/ckpt-<step>
  int ranks = 0;       // how many ranks wrote it
};

}  // namespace drocc::runtime
