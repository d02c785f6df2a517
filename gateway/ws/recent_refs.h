#pragma once
// The refs of a connection's recent sends, so that a resend with the same ref
// is acknowledged again instead of stored twice. Bounded: the oldest ref is
// forgotten first. Owned by one Connection; loop thread only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::gateway {

class RecentRefs {
 public:
  static constexpr std::size_t kCapacity = 64;

  struct Entry {
    std::string ref;
    bool stored = false;  // false: the store is still in flight
    std::uint64_t id = 0;
    std::int64_t ts = 0;
  };

  // The entry for `ref`, or nullptr.
  const Entry* find(std::string_view ref) const;
  // Records a send in flight; forgets the oldest entry when full.
  void addPending(std::string_view ref);
  void markStored(std::string_view ref, std::uint64_t id, std::int64_t ts);
  // Forgets a send that failed, so a retry stores it.
  void forget(std::string_view ref);

 private:
  Entry* lookup(std::string_view ref);

  std::vector<Entry> entries_;
  std::size_t next_ = 0;  // slot the next entry overwrites once full
};

}  // namespace chat::gateway
