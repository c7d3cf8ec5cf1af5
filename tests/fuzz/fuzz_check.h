#pragma once

// What the fuzz targets (tests/fuzz/*_fuzz.cc) check beyond "does not crash": an invariant that
// fails aborts the run like a sanitizer report, so libFuzzer saves the input as a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace drocc::fuzz {

// Prints "invariant failed: <what>" with the file and line, then aborts.
[[noreturn]] inline void Fail(const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant failed: %.*s\n", file, line, static_cast<int>(what.size()),
               what.data());
  std::abort();
}

// The fuzz input as text.
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace drocc::fuzz

// DROCC_FUZZ_CHECK(cond, what): `what` is anything convertible to std::string_view, evaluated
// only when `cond` is false.
#define DROCC_FUZZ_CHECK(cond, what)                                         \
  do {                                                                       \
    if (!(cond)) ::drocc::fuzz::Fail(__FILE__, __LINE__, std::string(what)); \
  } while (0)
