// The fuzzers' seeded generator (test/fuzz_core.cpp, test/fuzz_guard.cpp): xorshift64, each case
// started from (seed, case number), so any one case can be run again alone.
#pragma once

#include <cstdint>

namespace fuzz {

inline uint64_t rng = 1;

inline uint32_t next() {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return static_cast<uint32_t>(rng >> 16);
}

inline uint32_t below(uint32_t n) { return n == 0 ? 0 : next() % n; }

// Case `n` of the run seeded `seed`.
inline void start(uint64_t seed, uint64_t n) {
  rng = (seed * 0x9E3779B97F4A7C15ULL) ^ ((n + 1) * 0xD1B54A32D192ED03ULL);
  if (rng == 0) rng = 1;
}

}  // namespace fuzz
