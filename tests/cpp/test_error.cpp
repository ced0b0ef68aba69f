// The error model: codes, causes, locations, and the text users read.
#include <string>

#include "catch.hpp"
#include "decoflow/error.hpp"

using namespace decoflow;

TEST_CASE("errors carry a code, a cause and a location", "[error]") {
  Error plain(ErrorCode::corrupt_input, "zstd: unknown frame descriptor");
  REQUIRE(plain.code() == ErrorCode::corrupt_input);
  REQUIRE(plain.chunk() == no_chunk);
  REQUIRE(std::string(plain.what()) == "corrupt_input: zstd: unknown frame descriptor");

  Error located = plain.located("events", "decode", 17);
  REQUIRE(located.graph() == "events");
  REQUIRE(located.node() == "decode");
  REQUIRE(located.chunk() == 17);
  REQUIRE(located.cause() == plain.cause());
  REQUIRE(std::string(located.what()) ==
          "graph 'events', node 'decode', chunk 17: corrupt_input: zstd: unknown frame descriptor");
}

TEST_CASE("every code has a name", "[error]") {
  for (int c = 1; c <= 12; ++c) {
    REQUIRE(to_string(static_cast<ErrorCode>(c)) != "unknown");
  }
}
