// graphs/root_branches: whole branches of the real uproot-HZZ files through
// plan_root_branches() and an Executor, checked without uproot: every branch of
// every compressed file must decode to the bytes stored raw in
// uproot-HZZ-uncompressed.root (the basket positions come from
// tests/fixtures/hzz_baskets.tsv, the entry counts from each TKey). Bad inputs
// fail only their branch, naming it and the basket.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "decoflow/byteswap.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/input.hpp"
#include "decoflow/root_branches.hpp"


namespace {

namespace fs = std::filesystem;
using decoflow::RootBasketRef;
using decoflow::RootBranchSpec;
using decoflow::RootType;

struct Basket {
  std::uint64_t seek = 0, bytes = 0, keylen = 0, objlen = 0, last = 0;
};
// file -> branch -> baskets in order
using Table = std::map<std::string, std::map<std::string, std::vector<Basket>>>;

Table load_table() {
  std::ifstream in(fs::path(DECOFLOW_FIXTURE_DIR) / "hzz_baskets.tsv");
  REQUIRE(in.good());
  Table table;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string file, branch, xxh;
    std::uint64_t index = 0;
    Basket b;
    cols >> file >> branch >> index >> b.seek >> b.bytes >> b.keylen >> b.objlen >> xxh >> b.last;
    REQUIRE(cols);
    auto& list = table[file][branch];
    REQUIRE(list.size() == index);
    list.push_back(b);
  }
  return table;
}

fs::path root_dir() { return fs::path(DECOFLOW_TESTDATA_DIR) / "root"; }

bool have_testdata() {
  std::error_code ec;
  for (const char* name : {"uproot-HZZ-zstd.root", "uproot-HZZ-lz4.root", "uproot-HZZ-zlib.root",
                           "uproot-HZZ-lzma.root", "uproot-HZZ-uncompressed.root"}) {
    if (!fs::is_regular_file(root_dir() / name, ec)) return false;
  }
  return true;
}

// A branch spec from the fixture: entries from each TKey's fNevBuf, jagged
// when a basket has an offsets trailer. Read as bytes (uint8) so the content
// must be the raw payload byte for byte; `type` overrides.
RootBranchSpec spec_of(const std::string& name, const std::vector<Basket>& baskets,
                       decoflow::ConstBytes file, RootType type = RootType::uint8) {
  RootBranchSpec spec;
  spec.name = name;
  spec.type = type;
  std::uint64_t entry = 0;
  for (const Basket& b : baskets) {
    const auto key = decoflow::parse_root_basket_key(file.subspan(b.seek, b.bytes));
    if (key.border != key.objlen) spec.layout = decoflow::ColumnLayout::jagged;
    // Flat bytes: every value's bytes are items of one entry.
    if (type == RootType::uint8 && key.entries > 0) spec.items_per_entry = key.border / key.entries;
    spec.baskets.push_back({b.seek, b.bytes, entry, entry + key.entries});
    entry += key.entries;
  }
  if (spec.layout == decoflow::ColumnLayout::jagged) spec.items_per_entry = 1;
  return spec;
}

std::uint32_t be32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

}  // namespace

TEST_CASE("HZZ branches decode to the uncompressed file's bytes and offsets", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto raw_file = decoflow::InputBuffer::map_file(
      (root_dir() / "uproot-HZZ-uncompressed.root").string());
  const auto& raw_table = table.at("uproot-HZZ-uncompressed.root");
  decoflow::Executor executor(2);

  for (const auto& [file_name, branches] : table) {
    INFO(file_name);
    const auto file = decoflow::InputBuffer::map_file((root_dir() / file_name).string());
    std::vector<RootBranchSpec> specs;
    for (const auto& [name, baskets] : branches) specs.push_back(spec_of(name, baskets, file->bytes()));
    auto plan = decoflow::plan_root_branches(file, specs, file_name);
    executor.run(plan.make_graph());
    for (const auto& f : plan.failures()) FAIL_CHECK(f.error.what());

    std::size_t jagged = 0;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const RootBranchSpec& spec = specs[i];
      INFO("branch " << spec.name);
      // Expected: the raw payloads' content parts back to back, and the
      // global offsets from their trailers.
      std::vector<std::byte> content;
      std::vector<std::int64_t> offsets{0};
      for (const Basket& b : raw_table.at(spec.name)) {
        const std::byte* payload = raw_file->bytes().data() + b.seek + b.keylen;
        const std::uint64_t border = b.last - b.keylen;
        const auto base = static_cast<std::int64_t>(content.size());
        content.insert(content.end(), payload, payload + border);
        if (border == b.objlen) continue;
        const std::uint64_t entries =
            decoflow::parse_root_basket_key(raw_file->bytes().subspan(b.seek, b.bytes)).entries;
        for (std::uint64_t j = 1; j < entries; ++j) {
          offsets.push_back(base + be32(payload + border + 4 + 4 * j) - static_cast<std::int64_t>(b.keylen));
        }
        if (entries > 0) offsets.push_back(base + static_cast<std::int64_t>(border));
      }
      const auto array = plan.content(i);
      REQUIRE(array);
      REQUIRE(array->size() == content.size());
      CHECK(std::equal(content.begin(), content.end(), array->data()));
      if (spec.layout == decoflow::ColumnLayout::jagged) {
        ++jagged;
        const auto off = plan.offsets(i);
        REQUIRE(off);
        REQUIRE(off->size() == (plan.entries(i) + 1) * 8);
        REQUIRE(offsets.size() == plan.entries(i) + 1);
        CHECK(std::memcmp(off->data(), offsets.data(), off->size()) == 0);
      } else {
        CHECK(!plan.offsets(i));
      }
    }
    CHECK(jagged > 0);
  }
}

TEST_CASE("HZZ flat branches come out byteswapped to native order", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto file = decoflow::InputBuffer::map_file((root_dir() / "uproot-HZZ-zstd.root").string());
  const auto raw_file = decoflow::InputBuffer::map_file(
      (root_dir() / "uproot-HZZ-uncompressed.root").string());
  const auto& branches = table.at("uproot-HZZ-zstd.root");
  // MET_px is float32, NJet int32, Jet_Px jagged float32.
  std::vector<RootBranchSpec> specs{spec_of("MET_px", branches.at("MET_px"), file->bytes(), RootType::float32),
                                    spec_of("NJet", branches.at("NJet"), file->bytes(), RootType::int32),
                                    spec_of("Jet_Px", branches.at("Jet_Px"), file->bytes(), RootType::float32)};
  auto plan = decoflow::plan_root_branches(file, specs);
  decoflow::Executor executor(2);
  executor.run(plan.make_graph());
  REQUIRE(plan.failures().empty());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    INFO(specs[i].name);
    std::vector<std::byte> expected;
    for (const Basket& b : table.at("uproot-HZZ-uncompressed.root").at(specs[i].name)) {
      const std::byte* p = raw_file->bytes().data() + b.seek + b.keylen;
      expected.insert(expected.end(), p, p + (b.last - b.keylen));
    }
    decoflow::byteswap_in_place(expected, 4);
    REQUIRE(plan.content(i)->size() == expected.size());
    CHECK(std::equal(expected.begin(), expected.end(), plan.content(i)->data()));
    CHECK(plan.content_items(i) * 4 == expected.size());
  }
  std::int32_t njet[3];
  std::memcpy(njet, plan.content(1)->data(), sizeof njet);
  std::int64_t jet_offsets[4];
  std::memcpy(jet_offsets, plan.offsets(2)->data(), sizeof jet_offsets);
  CHECK(jet_offsets[0] == 0);
  for (int e = 0; e < 3; ++e) CHECK(jet_offsets[e + 1] - jet_offsets[e] == njet[e]);
}

TEST_CASE("a bad basket fails its branch only, naming the branch and the basket", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto path = root_dir() / "uproot-HZZ-zstd.root";
  const auto& branches = table.at("uproot-HZZ-zstd.root");
  std::vector<std::byte> bytes(fs::file_size(path));
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
  const auto good = decoflow::InputBuffer::from_bytes(bytes);
  const RootBranchSpec jet = spec_of("Muon_Px", branches.at("Muon_Px"), good->bytes());
  const RootBranchSpec met = spec_of("NJet", branches.at("NJet"), good->bytes());
  decoflow::Executor executor(2);

  auto expect_failure = [&](std::shared_ptr<const decoflow::InputBuffer> file,
                            std::vector<RootBranchSpec> specs, decoflow::ErrorCode code,
                            const std::string& needle) {
    auto plan = decoflow::plan_root_branches(std::move(file), specs, "bad");
    executor.run(plan.make_graph());  // never throws for a basket: failures are per branch
    const auto failures = plan.failures();
    for (const auto& f : failures) INFO(f.error.what());
    REQUIRE(failures.size() == 1);
    const auto& f = failures.front();
    CHECK(f.branch == 0);
    CHECK(f.error.code() == code);
    const std::string what = f.error.what();
    INFO(what);
    CHECK(what.find("branch 'Muon_Px' basket " + std::to_string(f.basket)) != std::string::npos);
    CHECK(what.find(needle) != std::string::npos);
    CHECK_THROWS_AS(plan.check(), decoflow::Error);
    // The other branch is whole.
    auto reference = decoflow::plan_root_branches(good, {met});
    executor.run(reference.make_graph());
    REQUIRE(plan.content(1)->size() == reference.content(0)->size());
    CHECK(std::memcmp(plan.content(1)->data(), reference.content(0)->data(),
                      reference.content(0)->size()) == 0);
    return f.basket;
  };

  SECTION("basket table outside the file") {
    RootBranchSpec bad = jet;
    bad.baskets.back().seek = bytes.size() - 10;
    CHECK(expect_failure(good, {bad, met}, decoflow::ErrorCode::corrupt_input, "outside the file") ==
          bad.baskets.size() - 1);
  }
  SECTION("truncated file") {
    // Cut inside Muon_Px's last basket; NJet's baskets lie before it.
    const Basket& first = branches.at("Muon_Px").back();
    for (const auto& b : met.baskets) REQUIRE(b.seek + b.bytes <= first.seek);
    std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(first.seek + 40));
    CHECK(expect_failure(decoflow::InputBuffer::from_bytes(cut), {jet, met},
                         decoflow::ErrorCode::corrupt_input, "outside the file") == 1);
  }
  SECTION("corrupted block header") {
    std::vector<std::byte> flipped = bytes;
    const Basket& b = branches.at("Muon_Px").at(1);
    flipped[b.seek + b.keylen] = std::byte{'Q'};
    CHECK(expect_failure(decoflow::InputBuffer::from_bytes(flipped), {jet, met},
                         decoflow::ErrorCode::unsupported_format, "file bytes [") == 1);
  }
  SECTION("a TKey that disagrees with the table") {
    RootBranchSpec bad = jet;
    bad.baskets[0].bytes -= 1;
    CHECK(expect_failure(good, {bad, met}, decoflow::ErrorCode::corrupt_input, "fNbytes") == 0);
  }
}

TEST_CASE("a table of some baskets decodes just those, from their first entry", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto& branches = table.at("uproot-HZZ-zstd.root");
  const auto path = root_dir() / "uproot-HZZ-zstd.root";
  const auto file = decoflow::InputBuffer::map_file(path.string());
  // Muon_Px whole and from its second basket on (the HZZ branches with two
  // baskets are jagged; tests/python/test_root.py covers flat ranges).
  const RootBranchSpec jet = spec_of("Muon_Px", branches.at("Muon_Px"), file->bytes(), RootType::float32);
  REQUIRE(jet.baskets.size() >= 2);
  auto tail = [](RootBranchSpec spec) {
    spec.baskets.erase(spec.baskets.begin());
    for (std::size_t k = 0; k < spec.baskets.size(); ++k) spec.baskets[k].number = k + 1;
    return spec;
  };
  decoflow::Executor executor(2);
  auto whole = decoflow::plan_root_branches(file, {jet});
  executor.run(whole.make_graph());
  REQUIRE(whole.failures().empty());
  auto part = decoflow::plan_root_branches(file, {tail(jet)});
  executor.run(part.make_graph());
  REQUIRE(part.failures().empty());

  // The content from the second basket on, offsets rebased to 0.
  const std::uint64_t jet_first = jet.baskets[1].entry_begin;
  REQUIRE(jet_first > 0);
  CHECK(whole.first_entry(0) == 0);
  CHECK(part.first_entry(0) == jet_first);
  REQUIRE(part.entries(0) == whole.entries(0) - jet_first);
  std::vector<std::int64_t> whole_off(whole.entries(0) + 1), part_off(part.entries(0) + 1);
  std::memcpy(whole_off.data(), whole.offsets(0)->data(), whole_off.size() * 8);
  std::memcpy(part_off.data(), part.offsets(0)->data(), part_off.size() * 8);
  const std::int64_t base = whole_off[jet_first];
  for (std::size_t e = 0; e < part_off.size(); ++e) {
    INFO("entry " << jet_first + e);
    REQUIRE(part_off[e] == whole_off[jet_first + e] - base);
  }
  REQUIRE(part.content(0)->size() == whole.content(0)->size() - static_cast<std::size_t>(base) * 4);
  CHECK(std::memcmp(part.content(0)->data(), whole.content(0)->data() + base * 4,
                    part.content(0)->size()) == 0);

  // Errors number the basket among all the branch's baskets.
  std::vector<std::byte> flipped(file->bytes().begin(), file->bytes().end());
  flipped[jet.baskets[1].seek + branches.at("Muon_Px")[1].keylen] = std::byte{'Q'};
  auto bad = decoflow::plan_root_branches(decoflow::InputBuffer::from_bytes(flipped), {tail(jet)});
  executor.run(bad.make_graph());
  const auto failures = bad.failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].basket == 1);
  CHECK(std::string(failures[0].error.what()).find("branch 'Muon_Px' basket 1 (entries " +
                                                   std::to_string(jet_first)) != std::string::npos);
}

TEST_CASE("branches of several files decode into one array each", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const std::vector<std::string> names = {"uproot-HZZ-zstd.root", "uproot-HZZ-lz4.root",
                                          "uproot-HZZ-zlib.root"};
  std::vector<std::shared_ptr<const decoflow::InputBuffer>> files;
  for (const auto& n : names) files.push_back(decoflow::InputBuffer::map_file((root_dir() / n).string()));
  decoflow::Executor executor(2);
  // One file at a time: the expected arrays.
  std::vector<decoflow::RootReadPlan> singles;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const auto& branches = table.at(names[f]);
    singles.push_back(decoflow::plan_root_branches(
        files[f], {spec_of("Jet_Px", branches.at("Jet_Px"), files[f]->bytes(), RootType::float32),
                   spec_of("MET_px", branches.at("MET_px"), files[f]->bytes(), RootType::float32)}));
    executor.run(singles.back().make_graph());
    REQUIRE(singles.back().failures().empty());
  }
  // All at once: each branch's table lists every file's baskets, entries running on.
  auto combined = [&](const std::string& branch, std::size_t bad_file = ~std::size_t{0}) {
    RootBranchSpec all;
    std::uint64_t base = 0;
    for (std::size_t f = 0; f < files.size(); ++f) {
      RootBranchSpec one = spec_of(branch, table.at(names[f]).at(branch), files[f]->bytes(),
                                   RootType::float32);
      all.name = one.name;
      all.type = one.type;
      all.layout = one.layout;
      for (std::size_t k = 0; k < one.baskets.size(); ++k) {
        RootBasketRef r = one.baskets[k];
        r.entry_begin += base;
        r.entry_end += base;
        r.file = static_cast<std::uint32_t>(f);
        r.number = k;
        if (f == bad_file) r.bytes -= 1;  // disagrees with its TKey
        all.baskets.push_back(r);
      }
      base = all.baskets.back().entry_end;
    }
    return all;
  };
  auto plan = decoflow::plan_root_branches(files, {combined("Jet_Px"), combined("MET_px")}, "three");
  REQUIRE(plan.inputs().size() == 3);
  executor.run(plan.make_graph());
  REQUIRE(plan.failures().empty());
  for (std::size_t b = 0; b < 2; ++b) {
    INFO("branch " << b);
    std::vector<std::byte> content;
    std::vector<std::int64_t> offsets{0};
    std::uint64_t entries = 0;
    for (const auto& single : singles) {
      const auto part = single.content(b);
      if (b == 0) {
        std::vector<std::int64_t> off(single.entries(0) + 1);
        std::memcpy(off.data(), single.offsets(0)->data(), off.size() * 8);
        const auto base = static_cast<std::int64_t>(content.size() / 4);
        for (std::size_t e = 1; e < off.size(); ++e) offsets.push_back(base + off[e]);
      }
      content.insert(content.end(), part->data(), part->data() + part->size());
      entries += single.entries(b);
    }
    REQUIRE(plan.entries(b) == entries);
    REQUIRE(plan.content(b)->size() == content.size());
    CHECK(std::memcmp(plan.content(b)->data(), content.data(), content.size()) == 0);
    if (b == 0) {
      REQUIRE(plan.offsets(0)->size() == offsets.size() * 8);
      CHECK(std::memcmp(plan.offsets(0)->data(), offsets.data(), offsets.size() * 8) == 0);
    }
  }
  // A bad basket of the second file: named by file, path and its number there.
  auto bad = decoflow::plan_root_branches(files, {combined("MET_px", 1), combined("Jet_Px")}, "bad");
  executor.run(bad.make_graph());
  const auto failures = bad.failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].branch == 0);
  CHECK(failures[0].file == 1);
  CHECK(failures[0].basket == 0);
  const std::string what = failures[0].error.what();
  INFO(what);
  CHECK(what.find("branch 'MET_px' basket 0 of file 1 (" + (root_dir() / names[1]).string() +
                  ") (entries ") != std::string::npos);
  CHECK(what.find("fNbytes") != std::string::npos);
  REQUIRE_THROWS_AS(decoflow::plan_root_branches(
                        std::vector<std::shared_ptr<const decoflow::InputBuffer>>{}, {}),
                    decoflow::Error);
}

namespace {

// Branch b's window of a collected read as values (and offsets from 0).
struct Window {
  std::vector<std::byte> values;
  std::vector<std::int64_t> offsets;
};

Window window_of(const decoflow::RootBranchResult& r, std::size_t width) {
  REQUIRE(!r.failure);
  Window w;
  const std::byte* v = r.content->data() + r.content_begin * width;
  w.values.assign(v, v + r.content_items * width);
  if (r.offsets) {
    const auto* o = reinterpret_cast<const std::int64_t*>(r.offsets->data()) + r.entry_begin;
    w.offsets.assign(o, o + r.entries + 1);
  }
  return w;
}

}  // namespace

TEST_CASE("steps of entries, each basket decoded once, equal the whole read", "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto file = decoflow::InputBuffer::map_file((root_dir() / "uproot-HZZ-lz4.root").string());
  const auto& branches = table.at("uproot-HZZ-lz4.root");
  const std::vector<RootBranchSpec> specs{
      spec_of("MET_px", branches.at("MET_px"), file->bytes(), RootType::float32),
      spec_of("Jet_Px", branches.at("Jet_Px"), file->bytes(), RootType::float32)};
  const decoflow::RootTree tree({file}, specs, "steps");
  decoflow::Executor executor(2);
  auto whole = tree.plan();
  executor.run(whole.make_graph());
  const auto all = whole.collect();
  const std::uint64_t entries = all[0].entries;
  REQUIRE(entries == 2421);

  for (const std::uint64_t step : {std::uint64_t{7}, std::uint64_t{300}, std::uint64_t{1000}}) {
    INFO("step " << step);
    std::vector<Window> joined(specs.size());
    std::size_t chunks = 0;
    std::optional<decoflow::RootReadPlan> previous;
    const auto take = [&](decoflow::RootReadPlan& plan) {
      const auto results = plan.collect();
      for (std::size_t b = 0; b < specs.size(); ++b) {
        Window w = window_of(results[b], 4);
        Window& j = joined[b];
        j.values.insert(j.values.end(), w.values.begin(), w.values.end());
        if (w.offsets.empty()) continue;
        const std::int64_t base = j.offsets.empty() ? 0 : j.offsets.back();
        REQUIRE(w.offsets.front() == 0);
        for (std::size_t k = j.offsets.empty() ? 0 : 1; k < w.offsets.size(); ++k) {
          j.offsets.push_back(w.offsets[k] + base);
        }
      }
    };
    for (std::uint64_t lo = 0; lo < entries; lo += step) {
      auto plan = tree.plan(decoflow::EntryRange{lo, std::min(lo + step, entries)},
                            previous ? &*previous : nullptr);
      chunks += plan.chunks().size();
      executor.run(plan.make_graph());  // runs while `previous` is not collected yet
      if (previous) take(*previous);
      previous.emplace(std::move(plan));
    }
    take(*previous);
    // Every basket with entries decoded by exactly one step.
    std::size_t baskets = 0;
    for (const auto& spec : specs) {
      for (const auto& r : spec.baskets) baskets += r.entry_end > r.entry_begin ? 1 : 0;
    }
    CHECK(chunks == baskets);
    for (std::size_t b = 0; b < specs.size(); ++b) {
      const Window w = window_of(all[b], 4);
      CHECK(joined[b].values == w.values);
      CHECK(joined[b].offsets == w.offsets);
    }
  }
}

TEST_CASE("a step that was not handed its shared basket fails that branch by name",
          "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const auto file = decoflow::InputBuffer::map_file((root_dir() / "uproot-HZZ-zstd.root").string());
  const auto& branches = table.at("uproot-HZZ-zstd.root");
  const decoflow::RootTree tree(
      {file}, {spec_of("Jet_Px", branches.at("Jet_Px"), file->bytes(), RootType::float32)}, "t");
  decoflow::Executor executor(2);
  auto first = tree.plan(decoflow::EntryRange{0, 10});
  auto second = tree.plan(decoflow::EntryRange{10, 20}, &first);
  CHECK(second.chunks().empty());  // inside the first step's basket
  executor.run(first.make_graph());
  // The second step collected before the first: nothing was handed over.
  const auto results = second.collect();
  REQUIRE(results[0].failure);
  CHECK(std::string(results[0].failure->error.what()).find("branch 'Jet_Px' basket 0") !=
        std::string::npos);
  CHECK_THROWS_AS(second.collect(), decoflow::Error);  // once only
  CHECK(!first.collect()[0].failure);
}

TEST_CASE("codings and embedded baskets that do not fit fail their branch only, by name",
          "[root_branches]") {
  if (!have_testdata()) DECOFLOW_SKIP("skipped: HZZ test data not found in " << root_dir().string());
  const Table table = load_table();
  const std::string raw_name = "uproot-HZZ-uncompressed.root";
  const auto file = decoflow::InputBuffer::map_file((root_dir() / raw_name).string());
  const auto& branches = table.at(raw_name);
  const RootBranchSpec njet = spec_of("NJet", branches.at("NJet"), file->bytes(), RootType::int32);
  const RootBranchSpec met = spec_of("MET_px", branches.at("MET_px"), file->bytes(), RootType::float32);
  decoflow::Executor executor(2);

  // A Double32_t coding with nbits out of range; a leaf-list record whose
  // fields add up to more than the basket holds per entry; an embedded
  // basket whose bytes disagree with its record.
  RootBranchSpec nbits = met;
  nbits.name = "nbits";
  nbits.type = RootType::float64;
  nbits.coding = decoflow::ElementCoding::scaled;
  nbits.low = 0;
  nbits.high = 1;
  nbits.nbits = 40;
  RootBranchSpec record = met;
  record.name = "record";
  record.type = RootType::uint8;
  record.coding = decoflow::ElementCoding::record;
  record.fields = {4, 2};
  // MET_px's first basket, stored raw in this file, as if embedded: its
  // values, but a record saying one more byte.
  const Basket& first = branches.at("MET_px").front();
  const auto payload = file->bytes().subspan(first.seek + first.keylen, first.last - first.keylen);
  std::vector<std::byte> kept(payload.begin(), payload.end());
  RootBranchSpec embedded = met;
  embedded.name = "embedded";
  embedded.baskets.resize(1);
  RootBasketRef& ref = embedded.baskets[0];
  ref.seek = 0;
  ref.bytes = kept.size();
  ref.framing = decoflow::ChunkFraming::embedded;
  ref.input = 1;
  ref.border = kept.size() + 4;
  const decoflow::RootTree tree({file}, {njet, nbits, record, embedded}, "bad codings",
                                {decoflow::InputBuffer::from_bytes(std::move(kept))});
  auto plan = tree.plan();
  executor.run(plan.make_graph());
  const auto results = plan.collect();
  REQUIRE(!results[0].failure);
  CHECK(results[0].content_items == njet.baskets.back().entry_end);
  REQUIRE(results[1].failure);
  CHECK(std::string(results[1].failure->error.what()).find("branch 'nbits' basket 0") != std::string::npos);
  CHECK(std::string(results[1].failure->error.what()).find("nbits 40 outside [1, 32]") != std::string::npos);
  REQUIRE(results[2].failure);
  CHECK(std::string(results[2].failure->error.what()).find("branch 'record' basket 0") != std::string::npos);
  CHECK(std::string(results[2].failure->error.what()).find("entries × items × width = 14526") != std::string::npos);
  REQUIRE(results[3].failure);
  const std::string what = results[3].failure->error.what();
  CHECK(what.find("branch 'embedded' basket 0 (embedded in its TBranch)") != std::string::npos);
  CHECK(what.find("values of 9688 bytes are not entries × items × width = 9684") != std::string::npos);
}

namespace {

// Big-endian writers for the nested baskets below.
void put_be(std::vector<std::byte>& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

// One embedded basket (values, then the entry-offsets trailer with fKeylen 0)
// of entries each serialised by `write` after its 10-byte header.
template <typename Entry, typename Write>
std::vector<std::byte> nested_basket(const std::vector<Entry>& entries, Write write,
                                     std::uint64_t& border) {
  std::vector<std::byte> values;
  std::vector<std::uint64_t> starts;
  for (const Entry& e : entries) {
    starts.push_back(values.size());
    std::vector<std::byte> body;
    put_be(body, 9, 2);  // version
    put_be(body, e.size(), 4);
    write(body, e);
    put_be(values, body.size() | 0x40000000u, 4);
    values.insert(values.end(), body.begin(), body.end());
  }
  border = values.size();
  put_be(values, entries.size(), 4);
  for (const std::uint64_t s : starts) put_be(values, s, 4);
  put_be(values, 0, 4);
  return values;
}

using Ints3 = std::vector<std::vector<std::vector<std::int32_t>>>;  // one entry: depth 2
using Strings2 = std::vector<std::vector<std::string>>;             // one entry: depth 1, strings

}  // namespace

TEST_CASE("nested lists of several levels compact across baskets, whole and in windows",
          "[root_branches]") {
  // 3 baskets of std::vector<std::vector<std::vector<int>>> and of
  // std::vector<std::vector<std::string>>: empty entries, empty lists, a
  // long string (255 + 4-byte length).
  std::vector<Ints3> ints;
  std::vector<Strings2> strings;
  std::int32_t next = -50;
  for (int e = 0; e < 21; ++e) {
    Ints3 entry;
    Strings2 words;
    for (int i = 0; i < e % 4; ++i) {
      std::vector<std::vector<std::int32_t>> mid;
      std::vector<std::string> row;
      for (int j = 0; j < (e + i) % 3; ++j) {
        mid.emplace_back();
        for (int k = 0; k < (e + j) % 4; ++k) mid.back().push_back(next++ * 1000003);
        row.push_back(e == 7 && j == 1 ? std::string(300, 'x') : std::string(static_cast<std::size_t>(j + i), char('a' + e)));
      }
      entry.push_back(std::move(mid));
      words.push_back(std::move(row));
    }
    ints.push_back(std::move(entry));
    strings.push_back(std::move(words));
  }
  const auto write_ints = [](std::vector<std::byte>& out, const Ints3& e) {
    for (const auto& mid : e) {
      put_be(out, mid.size(), 4);
      for (const auto& inner : mid) {
        put_be(out, inner.size(), 4);
        for (const std::int32_t v : inner) put_be(out, static_cast<std::uint32_t>(v), 4);
      }
    }
  };
  const auto write_strings = [](std::vector<std::byte>& out, const Strings2& e) {
    for (const auto& row : e) {
      put_be(out, row.size(), 4);
      for (const std::string& s : row) {
        if (s.size() < 255) {
          put_be(out, s.size(), 1);
        } else {
          put_be(out, 255, 1);
          put_be(out, s.size(), 4);
        }
        for (const char c : s) out.push_back(static_cast<std::byte>(c));
      }
    }
  };
  const std::vector<std::ptrdiff_t> bounds = {0, 6, 13, 21};
  std::vector<std::shared_ptr<const decoflow::InputBuffer>> inputs;
  RootBranchSpec int_spec, string_spec;
  int_spec.name = "ints";
  int_spec.type = RootType::int32;
  int_spec.depth = 2;
  string_spec.name = "words";
  string_spec.type = RootType::uint8;
  string_spec.depth = 1;
  string_spec.leaf_strings = true;
  for (RootBranchSpec* spec : {&int_spec, &string_spec}) {
    spec->layout = decoflow::ColumnLayout::nested;
    spec->header_bytes = 10;
  }
  for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
    for (RootBranchSpec* spec : {&int_spec, &string_spec}) {
      std::uint64_t border = 0;
      auto bytes = spec == &int_spec
                       ? nested_basket(std::vector<Ints3>(ints.begin() + bounds[k], ints.begin() + bounds[k + 1]),
                                       write_ints, border)
                       : nested_basket(std::vector<Strings2>(strings.begin() + bounds[k],
                                                             strings.begin() + bounds[k + 1]),
                                       write_strings, border);
      RootBasketRef ref;
      ref.bytes = bytes.size();
      ref.entry_begin = static_cast<std::uint64_t>(bounds[k]);
      ref.entry_end = static_cast<std::uint64_t>(bounds[k + 1]);
      ref.framing = decoflow::ChunkFraming::embedded;
      ref.input = static_cast<std::uint32_t>(1 + inputs.size());
      ref.border = border;
      spec->baskets.push_back(ref);
      inputs.push_back(decoflow::InputBuffer::from_bytes(std::move(bytes)));
    }
  }
  const decoflow::RootTree tree({decoflow::InputBuffer::from_bytes(std::vector<std::byte>(1))},
                                {int_spec, string_spec}, "nested", inputs);
  decoflow::Executor executor(2);

  // Level k's offsets of a result, as a vector from its first boundary.
  const auto level = [](const decoflow::RootBranchResult& r, std::size_t k) {
    const auto& l = r.levels.at(k);
    const auto* p = reinterpret_cast<const std::int64_t*>(l.offsets->data()) + l.begin;
    return std::vector<std::int64_t>(p, p + l.count + 1);
  };
  const auto entry_offsets = [](const decoflow::RootBranchResult& r) {
    const auto* p = reinterpret_cast<const std::int64_t*>(r.offsets->data()) + r.entry_begin;
    return std::vector<std::int64_t>(p, p + r.entries + 1);
  };
  for (const auto window : {std::optional<decoflow::EntryRange>{},
                            std::optional<decoflow::EntryRange>{{4, 15}},
                            std::optional<decoflow::EntryRange>{{14, 16}}}) {
    const std::uint64_t lo = window ? window->start : 0, hi = window ? window->stop : 21;
    auto plan = tree.plan(window);
    executor.run(plan.make_graph());
    const auto results = plan.collect();
    REQUIRE(!results[0].failure);
    REQUIRE(!results[1].failure);
    // The expected levels, flattened.
    std::vector<std::int64_t> o0{0}, o1{0}, o2{0}, s0{0}, s1{0};
    std::vector<std::int32_t> values;
    std::string chars;
    for (std::uint64_t e = lo; e < hi; ++e) {
      for (const auto& mid : ints[e]) {
        for (const auto& inner : mid) {
          values.insert(values.end(), inner.begin(), inner.end());
          o2.push_back(static_cast<std::int64_t>(values.size()));
        }
        o1.push_back(static_cast<std::int64_t>(o2.size() - 1));
      }
      o0.push_back(static_cast<std::int64_t>(o1.size() - 1));
      for (const auto& row : strings[e]) {
        for (const std::string& s : row) {
          chars += s;
          s1.push_back(static_cast<std::int64_t>(chars.size()));
        }
        s0.push_back(static_cast<std::int64_t>(s1.size() - 1));
      }
    }
    const auto& r = results[0];
    CHECK(r.entries == hi - lo);
    CHECK(entry_offsets(r) == o0);
    REQUIRE(r.levels.size() == 2);
    CHECK(level(r, 0) == o1);
    CHECK(level(r, 1) == o2);
    REQUIRE(r.content_items == values.size());
    const auto* got = reinterpret_cast<const std::int32_t*>(r.content->data()) + r.content_begin;
    CHECK(std::vector<std::int32_t>(got, got + r.content_items) == values);
    const auto& w = results[1];
    std::vector<std::int64_t> entries_of_words{0};
    for (std::uint64_t e = lo; e < hi; ++e) {
      entries_of_words.push_back(entries_of_words.back() + static_cast<std::int64_t>(strings[e].size()));
    }
    CHECK(entry_offsets(w) == entries_of_words);
    REQUIRE(w.levels.size() == 2);
    CHECK(level(w, 0) == s0);
    CHECK(level(w, 1) == s1);
    const auto* text = reinterpret_cast<const char*>(w.content->data()) + w.content_begin;
    CHECK(std::string(text, w.content_items) == chars);
  }
}
