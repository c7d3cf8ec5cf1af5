#include "daemon/auth/peer_table.h"

#include <sys/socket.h>

#include "absl/strings/numbers.h"

namespace drocc::auth {

bool PeerTable::Record(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    return false;
  }
  std::lock_guard lock(mu_);
  by_fd_[fd] = PeerCred{cred.pid, cred.uid, cred.gid};
  return true;
}

std::optional<PeerCred> PeerTable::Lookup(std::string_view grpc_peer) const {
  if (!grpc_peer.starts_with("fd:")) return std::nullopt;
  int fd = -1;
  std::string_view digits = grpc_peer.substr(3);
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &fd)) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return std::nullopt;
  return it->second;
}

}  // namespace drocc::auth
