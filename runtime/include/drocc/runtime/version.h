#pragma once

namespace drocc::runtime {

// The library's version, "major.minor.patch".
const char* Version();

}  // namespace drocc::runtime
