#include "ws/recent_refs.h"

namespace chat::gateway {

RecentRefs::Entry* RecentRefs::lookup(std::string_view ref) {
  for (auto& e : entries_) {
    if (e.ref == ref) return &e;
  }
  return nullptr;
}

const RecentRefs::Entry* RecentRefs::find(std::string_view ref) const {
  return const_cast<RecentRefs*>(this)->lookup(ref);
}

void RecentRefs::addPending(std::string_view ref) {
  Entry entry{std::string(ref)};
  if (entries_.size() < kCapacity) {
    entries_.push_back(std::move(entry));
    return;
  }
  entries_[next_] = std::move(entry);
  next_ = (next_ + 1) % kCapacity;
}

void RecentRefs::markStored(std::string_view ref, std::uint64_t id, std::int64_t ts) {
  if (Entry* e = lookup(ref)) {
    e->stored = true;
    e->id = id;
    e->ts = ts;
  }
}

void RecentRefs::forget(std::string_view ref) {
  if (Entry* e = lookup(ref)) e->ref.clear();
}

}  // namespace chat::gateway
