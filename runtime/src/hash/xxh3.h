#pragma once

// XXH3-64, the runtime's one checksum (checkpoint shards and manifests, staged files), through
// libxxhash's run-time CPU dispatch (AVX2 or AVX-512 where the CPU has them; the Debian
// library itself is built for SSE2).

#include <cstddef>
#include <cstdint>

namespace drocc::runtime {

// Streamed. Throws std::bad_alloc if libxxhash cannot allocate its state.
class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(const Xxh3&) = delete;
  Xxh3& operator=(const Xxh3&) = delete;

  void Reset();
  void Update(const void* data, size_t bytes);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t*, kept out of this header
};

// One shot.
uint64_t Xxh3Of(const void* data, size_t bytes);

}  // namespace drocc::runtime
