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

TEST_CASE("root_file: a tree in several files reads as one, entries numbered on",
          "[root_file]") {
  // The same trees under two codecs, read as one tree of twice the entries:
  // every branch's values are the one file's twice, embedded baskets included.
  for (const std::string tree : {"vectors", "floats", "embedded_tail"}) {
    INFO(tree);
    const auto reference = decode_tree(fixture("uncompressed"), tree);
    std::vector<RootFile> files;
    std::vector<RootTreeMeta> metas;
    for (const std::string codec : {"uncompressed", "zstd"}) {
      files.push_back(RootFile::open(fixture(codec)));
      metas.push_back(read_root_tree(files.back(), *files.back().find(tree)));
    }
    std::vector<RootBranchSpec> specs;
    std::vector<std::vector<std::byte>> kept;
    for (std::size_t i = 0; i < metas[0].branches.size(); ++i) {
      if (!metas[0].branches[i].kind) continue;
      const RootBranchMeta* per_file[] = {&metas[0].branches[i], &metas[1].branches[i]};
      specs.push_back(root_branch_spec(per_file, 2, kept));
      const RootBranchSpec& spec = specs.back();
      const std::size_t n = metas[0].branches[i].baskets.size();
      REQUIRE(spec.baskets.size() == 2 * n);
      for (std::size_t j = 0; j < n; ++j) {  // the second file's: entries after the first's
        CHECK(spec.baskets[j].file == 0);
        CHECK(spec.baskets[n + j].file == 1);
        CHECK(spec.baskets[n + j].entry_begin == spec.baskets[j].entry_begin + metas[0].entries);
        if (spec.baskets[j].framing == ChunkFraming::embedded) {
          CHECK(spec.baskets[n + j].input != spec.baskets[j].input);
        }
      }
    }
    std::vector<std::shared_ptr<const InputBuffer>> embedded;
    for (auto& bytes : kept) embedded.push_back(InputBuffer::from_bytes(std::move(bytes)));
    const RootTree read({files[0].file(), files[1].file()}, specs, tree, std::move(embedded));
    RootReadPlan plan = read.plan();
    Executor executor(2);
    executor.run(plan.make_graph());
    const auto results = plan.collect();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      INFO(specs[i].name);
      const RootBranchResult& r = results[i];
      REQUIRE(!r.failure);
      CHECK(r.entries == 2 * metas[0].entries);
      const std::size_t width = value_width(specs[i]);
      const std::byte* values = r.content->data() + r.content_begin * width;
      const std::vector<std::byte> got(values, values + r.content_items * width);
      std::vector<std::byte> once = reference.at(specs[i].name);
      once.resize(got.size() / 2);  // the values, without the offsets decode_tree appends
      std::vector<std::byte> twice = once;
      twice.insert(twice.end(), once.begin(), once.end());
      CHECK(got == twice);
    }
  }
}

TEST_CASE("root_file: a branch typed differently in two files is refused by name",
          "[root_file]") {
  const RootFile file = RootFile::open(fixture("zstd"));
  const RootTreeMeta meta = read_root_tree(file, *file.find("floats"));
  const RootBranchMeta* a = nullptr;
  const RootBranchMeta* b = nullptr;
  for (const auto& branch : meta.branches) {
    if (!branch.kind) continue;
    if (!a) {
      a = &branch;
    } else if (!(*branch.kind == *a->kind)) {
      b = &branch;
      break;
    }
  }
  REQUIRE((a && b));
  const RootBranchMeta* per_file[] = {a, b};
  std::vector<std::vector<std::byte>> kept;
  try {
    (void)root_branch_spec(per_file, 2, kept);
    FAIL("two kinds read as one");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::unsupported_format);
    CHECK(std::string(e.what()).find("differs between the files") != std::string::npos);
    CHECK(std::string(e.what()).find(b->path) != std::string::npos);
  }
}
