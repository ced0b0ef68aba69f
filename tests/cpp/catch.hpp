// Catch2 2.x (Debian 12) and 3.x (Debian 13) behind one include.
#pragma once
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

// Skips the rest of a test visibly: Catch2 3 has SKIP; on Catch2 2 the test
// warns and returns (it then counts as passed, with the warning printed).
#ifdef SKIP
#define DECOFLOW_SKIP(msg) SKIP(msg)
#else
#define DECOFLOW_SKIP(msg) \
  do {                     \
    WARN(msg);             \
    return;                \
  } while (false)
#endif
