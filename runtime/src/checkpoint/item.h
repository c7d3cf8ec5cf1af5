#pragma once

// One registered piece of state, as Save and Restore (checkpointer.cc, restore.cc) see it.

#include <cstdint>
#include <string>

#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/manifest.h"

namespace drocc::runtime {

struct Checkpointer::Item {
  std::string name;
  checkpoint::ItemKind kind = checkpoint::ItemKind::kReplicated;
  char* data = nullptr;
  uint64_t element_size = 1;
  uint64_t global_count = 0;  // elements (distributed) or bytes (replicated)
  uint64_t offset = 0;        // distributed: this rank's first element
  uint64_t count = 0;         // distributed: this rank's element count
  SaveFn save;
  LoadFn load;
};

}  // namespace drocc::runtime
