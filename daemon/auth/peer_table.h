#pragma once

// The peer credentials of the Unix-socket connections droccd accepted itself. droccd accepts
// each connection, reads SO_PEERCRED and hands the descriptor to gRPC, which names such a
// peer "fd:<n>". A descriptor number is reused only after gRPC closes it, which happens only
// once no call of that connection is alive, so a live call always maps to its own entry.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

namespace drocc::auth {

struct PeerCred {
  pid_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

class PeerTable {
 public:
  // Reads SO_PEERCRED of the connected Unix socket `fd` and records it.
  // false when the descriptor has none (not a Unix socket).
  bool Record(int fd);
  // The credentials behind a gRPC peer string "fd:<n>"; nullopt for any other peer.
  std::optional<PeerCred> Lookup(std::string_view grpc_peer) const;

 private:
  mutable std::mutex mu_;
  std::map<int, PeerCred> by_fd_;  // GUARDED_BY(mu_)
};

}  // namespace drocc::auth
