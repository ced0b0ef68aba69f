// decoflow::python from an installed prefix: a C++ program that embeds
// CPython and runs one glue stage.
#include <decoflow/decoflow.hpp>
#include <decoflow/glue.hpp>
#include <decoflow/python_host.hpp>

#include <cstdio>
#include <vector>

int main() {
  decoflow::PythonHost host;
  std::vector<std::byte> bytes(64, std::byte{0});
  decoflow::Graph graph("glue");
  std::uint32_t input = graph.add_input(decoflow::InputBuffer::from_bytes(std::move(bytes)));
  auto array = decoflow::DestinationArray::allocate(64);
  std::uint32_t out = graph.add_array(array);
  decoflow::GlueSpec spec;
  spec.source = "def fill(src, dst, index, tag):\n    dst[:] = bytes([index + 1]) * len(dst)\n";
  spec.function = "fill";
  graph.add_stage(decoflow::glue_stage("fill", spec));
  for (std::uint32_t i = 0; i < 2; ++i) {
    graph.add_chunk({.input = input, .input_offset = i * 32u, .input_size = 32,
                     .array = out, .dest_offset = i * 32u, .dest_size = 32,
                     .codec = decoflow::Codec::raw});
  }
  {
    decoflow::Executor executor(2);
    executor.run(std::move(graph));
  }
  bool ok = array->data()[0] == std::byte{1} && array->data()[63] == std::byte{2};
  std::printf("glue from C++: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
