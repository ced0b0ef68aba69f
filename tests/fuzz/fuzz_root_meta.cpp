// Fuzz target: the native ROOT metadata reader (root_file.hpp, root_tree_meta.hpp).
//
// Input layout: byte 0 chooses what the rest is — even: a whole ROOT file
// (its header, directories, keys; every TTree key read and parsed); odd: a
// TTree key's decompressed payload, after 2 bytes (big-endian) of its fKeylen
// (compressed payloads would hide the parser from the fuzzer). Seeds: the
// test files and their trees' payloads (make_corpus.cpp).
//
// Invariants: only decoflow::Error escapes, with a code the readers document
// (corrupt_input, unsupported_format, size_mismatch, checksum_mismatch,
// invalid_argument for a key that is no TTree); a tree read is well formed —
// each branch's parent comes before it and lists it among its children, its
// baskets' entries never run backwards, and a typed branch becomes a
// RootBranchSpec that RootTree accepts or refuses by name.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/input.hpp"
#include "decoflow/root_branches.hpp"
#include "decoflow/root_file.hpp"
#include "decoflow/root_tree_meta.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace decoflow;

bool documented(ErrorCode code) {
  return code == ErrorCode::corrupt_input || code == ErrorCode::unsupported_format ||
         code == ErrorCode::size_mismatch || code == ErrorCode::checksum_mismatch ||
         code == ErrorCode::invalid_argument;
}

void check_tree(const RootTreeMeta& tree, const std::shared_ptr<const InputBuffer>& file) {
  for (std::size_t i = 0; i < tree.branches.size(); ++i) {
    const RootBranchMeta& b = tree.branches[i];
    if (b.parent) {
      DECOFLOW_FUZZ_CHECK(*b.parent < i, "branch %zu's parent %zu comes after it", i, *b.parent);
      const auto& kids = tree.branches[*b.parent].children;
      DECOFLOW_FUZZ_CHECK(std::find(kids.begin(), kids.end(), i) != kids.end(),
                          "branch %zu is not among its parent's children", i);
    }
    for (const RootBasketRef& r : b.baskets) {
      DECOFLOW_FUZZ_CHECK(r.entry_begin <= r.entry_end, "branch %zu: a basket runs backwards", i);
    }
    if (!b.kind || !file) continue;
    std::vector<std::vector<std::byte>> kept;
    RootBranchSpec spec = root_branch_spec(b, 0, 1, kept);
    std::vector<std::shared_ptr<const InputBuffer>> embedded;
    for (auto& bytes : kept) embedded.push_back(InputBuffer::from_bytes(std::move(bytes)));
    try {
      RootTree one({file}, {std::move(spec)}, "fuzz", std::move(embedded));
    } catch (const Error& e) {
      DECOFLOW_FUZZ_CHECK(e.code() == ErrorCode::invalid_argument,
                          "RootTree refused a native spec with %s", e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  try {
    if (data[0] % 2 == 1) {
      if (size < 3) return 0;
      const std::uint32_t keylen = static_cast<std::uint32_t>(data[1]) << 8 | data[2];
      const RootTreeMeta tree = parse_root_tree(ConstBytes(bytes + 3, size - 3), keylen, "fuzz");
      check_tree(tree, InputBuffer::from_bytes(std::vector<std::byte>(8)));
      return 0;
    }
    const auto file = InputBuffer::from_bytes(std::vector<std::byte>(bytes + 1, bytes + size));
    const RootFile root(file, "fuzz.root");
    for (const auto& [path, key] : root.walk()) {
      if (key.class_name != "TTree") continue;
      try {
        check_tree(read_root_tree(root, key), file);
      } catch (const Error& e) {
        DECOFLOW_FUZZ_CHECK(documented(e.code()), "tree '%s': undocumented error %s", path.c_str(),
                            e.what());
      }
    }
  } catch (const Error& e) {
    DECOFLOW_FUZZ_CHECK(documented(e.code()), "undocumented error %s", e.what());
  }
  return 0;
}
