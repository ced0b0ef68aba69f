#include "detail/slice_reservation.hpp"

#include <algorithm>
#include <mutex>

namespace decoflow::detail {

namespace {

// Both lists sorted and internally disjoint: one merge walk finds any overlap.
bool first_overlap(const RangeList& a, const RangeList& b,
                   std::pair<std::uint64_t, std::uint64_t>& conflict) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].second <= b[j].first) {
      ++i;
    } else if (b[j].second <= a[i].first) {
      ++j;
    } else {
      conflict = {std::max(a[i].first, b[j].first), std::min(a[i].second, b[j].second)};
      return true;
    }
  }
  return false;
}

}  // namespace

bool SliceReservation::try_reserve(const std::shared_ptr<DestinationArray>& array,
                                   RangeList ranges, std::unique_ptr<SliceReservation>& out,
                                   std::pair<std::uint64_t, std::uint64_t>& conflict) {
  std::lock_guard lock(array->reservations_mutex_);
  for (const RangeList* held : array->reservations_) {
    if (first_overlap(*held, ranges, conflict)) return false;
  }
  out.reset(new SliceReservation(array, std::move(ranges)));
  array->reservations_.push_back(&out->ranges_);
  return true;
}

SliceReservation::~SliceReservation() {
  std::lock_guard lock(array_->reservations_mutex_);
  auto& held = array_->reservations_;
  held.erase(std::find(held.begin(), held.end(), &ranges_));
}

}  // namespace decoflow::detail
