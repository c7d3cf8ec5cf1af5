#include "runtime/src/hash/xxh3.h"

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
// Replaces XXH3_64bits* below with their _dispatch versions, which pick the widest vector
// unit the CPU has at run time. Every byte checkpointed or staged is hashed (staging hashes
// it twice: at the source and on reading the copy back).
#include <xxh_x86dispatch.h>
#endif

#include <new>

namespace drocc::runtime {

Xxh3::Xxh3() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  Reset();
}

Xxh3::~Xxh3() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::Reset() { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::Update(const void* data, size_t bytes) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, bytes);
}

uint64_t Xxh3::Digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

uint64_t Xxh3Of(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

}  // namespace drocc::runtime
