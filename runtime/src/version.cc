#include "drocc/runtime/version.h"

namespace drocc::runtime {

const char* Version() { return "0.1.0"; }

}  // namespace drocc::runtime
