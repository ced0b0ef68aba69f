// The glue tests embed Python: one PythonHost for the whole run, created
// before any glue and destroyed after, on the main thread.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include "decoflow/python_host.hpp"

int main(int argc, char** argv) {
  decoflow::PythonHost host;
  return Catch::Session().run(argc, argv);
}
