// decoflow::graphs from an installed prefix: two zstd frames, scanned and
// decoded into one array by the ready-made frames graph.
#include <decoflow/decoflow.hpp>
#include <decoflow/frame_scan.hpp>
#include <decoflow/frames_file.hpp>
#include <zstd.h>

#include <cstdio>
#include <vector>

int main() {
  std::vector<std::byte> first(5000, std::byte{7}), second(7000, std::byte{9});
  std::vector<std::byte> packed(ZSTD_compressBound(7000) * 2);
  std::size_t a = ZSTD_compress(packed.data(), packed.size() / 2, first.data(), first.size(), 3);
  std::size_t b = ZSTD_compress(packed.data() + a, packed.size() / 2, second.data(), second.size(), 3);
  packed.resize(a + b);

  auto input = decoflow::InputBuffer::from_bytes(std::move(packed));
  decoflow::FrameScan scan = decoflow::scan_frames(input->bytes());
  auto array = decoflow::DestinationArray::allocate(decoflow::decoded_size(scan));
  decoflow::Executor executor(2);
  executor.run(decoflow::frames_to_array_graph(input, scan, array));
  bool ok = scan.pieces.size() == 2 && array->size() == 12000 &&
            array->data()[4999] == std::byte{7} && array->data()[5000] == std::byte{9};
  std::printf("frames graph: %zu pieces, %s\n", scan.pieces.size(), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
