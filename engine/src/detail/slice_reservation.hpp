// Reserving a graph's destination ranges on its arrays for the time it runs,
// so that two running graphs never write the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "decoflow/destination.hpp"

namespace decoflow::detail {

using RangeList = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // sorted [begin, end)

/// Holds one graph's reservations on one array; released on destruction.
class SliceReservation {
 public:
  /// Reserves `ranges` (sorted, non-overlapping) on `array`. Returns false,
  /// reserving nothing, when a range overlaps one held by another running
  /// graph; `conflict` then holds the first overlapping [begin, end).
  static bool try_reserve(const std::shared_ptr<DestinationArray>& array, RangeList ranges,
                          std::unique_ptr<SliceReservation>& out,
                          std::pair<std::uint64_t, std::uint64_t>& conflict);
  ~SliceReservation();
  SliceReservation(const SliceReservation&) = delete;
  SliceReservation& operator=(const SliceReservation&) = delete;

 private:
  SliceReservation(std::shared_ptr<DestinationArray> array, RangeList ranges)
      : array_(std::move(array)), ranges_(std::move(ranges)) {}
  std::shared_ptr<DestinationArray> array_;
  RangeList ranges_;
};

}  // namespace decoflow::detail
