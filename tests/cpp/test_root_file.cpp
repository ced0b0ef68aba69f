// The native ROOT metadata reader as a C++ caller uses it: open a file, find a
// tree, read its metadata, turn every typed branch into a RootBranchSpec and
// decode it — no table, no Python. The fixtures (tests/fixtures/root/, written
// by ROOT 6.40) hold the same trees under five codecs: the values must agree
// byte for byte across them (tests/python/test_root_native.py checks the
// metadata against uproot, tests/samples/root_decode_test.py the values).
#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/root_branches.hpp"
#include "decoflow/root_file.hpp"
#include "decoflow/root_tree_meta.hpp"

#ifndef DECOFLOW_FIXTURE_DIR
#error "compile with -DDECOFLOW_FIXTURE_DIR=\"<project>/tests/fixtures\""
#endif

namespace {

using namespace decoflow;

std::string fixture(const std::string& codec) {
  return std::string(DECOFLOW_FIXTURE_DIR) + "/root/coverage-" + codec + ".root";
}

// Every typed branch of `tree` decoded: name -> values (native order) then offsets.
std::map<std::string, std::vector<std::byte>> decode_tree(const std::string& path,
                                                          const std::string& tree) {
  const RootFile file = RootFile::open(path);
  const auto key = file.find(tree);
  REQUIRE(key);
  const RootTreeMeta meta = read_root_tree(file, *key);
  std::vector<RootBranchSpec> specs;
  std::vector<std::vector<std::byte>> kept;
  for (const auto& b : meta.branches) {
    if (b.kind) specs.push_back(root_branch_spec(b, 0, 1, kept));
  }
  REQUIRE(!specs.empty());
  std::vector<std::shared_ptr<const InputBuffer>> embedded;
  for (auto& bytes : kept) embedded.push_back(InputBuffer::from_bytes(std::move(bytes)));
  const RootTree read({file.file()}, specs, tree, std::move(embedded));
  RootReadPlan plan = read.plan();
  Executor executor(2);
  executor.run(plan.make_graph());
  const auto results = plan.collect();
  std::map<std::string, std::vector<std::byte>> out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const RootBranchResult& r = results[i];
    INFO(path << ":" << tree << " branch " << specs[i].name);
    REQUIRE(!r.failure);
    CHECK(r.entries == meta.entries);
    const std::size_t width = value_width(specs[i]);
    auto& bytes = out[specs[i].name];
    const std::byte* values = r.content->data() + r.content_begin * width;
    bytes.assign(values, values + r.content_items * width);
    if (r.offsets) {
      const std::byte* o = r.offsets->data() + r.entry_begin * sizeof(std::int64_t);
      bytes.insert(bytes.end(), o, o + (r.entries + 1) * sizeof(std::int64_t));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("root_file: a file's keys, subdirectories included", "[root_file]") {
  const RootFile file = RootFile::open(fixture("zstd"));
  std::vector<std::string> listed;
  for (const auto& [path, key] : file.walk()) listed.push_back(path + ":" + key.class_name);
  CHECK(listed == std::vector<std::string>{"vectors:TTree", "floats:TTree", "objects:TTree",
                                           "embedded_tail:TTree", "sub:TDirectory",
                                           "sub/embedded_only:TTree"});
  CHECK(file.find("sub/embedded_only"));
  CHECK(file.find("sub/embedded_only;1"));
  CHECK_FALSE(file.find("sub/embedded_only;2"));
  CHECK_FALSE(file.find("nothing"));
}

TEST_CASE("root_file: every typed branch decodes alike under every codec", "[root_file]") {
  for (const std::string tree : {"vectors", "floats", "embedded_tail", "sub/embedded_only"}) {
    const auto reference = decode_tree(fixture("uncompressed"), tree);
    for (const std::string codec : {"zstd", "lz4", "zlib", "lzma"}) {
      INFO(codec << " " << tree);
      CHECK(decode_tree(fixture(codec), tree) == reference);
    }
  }
}

TEST_CASE("root_file: a file cut short is named, never read past its end", "[root_file]") {
  const auto whole = InputBuffer::map_file(fixture("zstd"));
  for (const std::size_t keep : {std::size_t{0}, std::size_t{3}, std::size_t{40}, std::size_t{300},
                                 whole->size() / 2, whole->size() - 1}) {
    INFO("first " << keep << " bytes");
    const ConstBytes head = whole->bytes().first(keep);
    std::vector<std::byte> bytes(head.begin(), head.end());
    try {
      const RootFile file(InputBuffer::from_bytes(std::move(bytes)), "cut.root");
      const auto key = file.find("vectors");
      if (key) read_root_tree(file, *key);
      FAIL("a truncated file was read");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::corrupt_input);
      CHECK(std::string(e.what()).find("cut.root") != std::string::npos);
    }
  }
}
