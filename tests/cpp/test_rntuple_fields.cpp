// RNTuple fields read by name from C++ alone (rntuple_fields.hpp), on the
// fixtures of scripts/make_rntuple_fixtures.py (the Python ctest
// rntuple_decode_test.py compares every field with uproot's through
// decoflow-root-decode), whose values follow from the
// entry number: i32 = e % 3 == 0 ? -1000 e : 77 e; str = "" every fifth
// entry, else "entry E" and E % 7 'x's; arr = {e / 2, -e / 4, random};
// vvi's k-th inner list holds e * 10 + j for j < k + e % 2. 1500 entries in
// 5 clusters of 300 per file.
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <xxhash.h>

#include "catch.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/rntuple_fields.hpp"
#include "decoflow/root_file.hpp"
#include "test_support.hpp"

using namespace decoflow;
using namespace decoflow::test;

namespace {

std::shared_ptr<const RNTuple> open_fixture(const std::string& name, const std::string& ntuple = "ntuple") {
  const auto path = std::filesystem::path(DECOFLOW_FIXTURE_DIR) / "rntuple" / name;
  const RootFile file = RootFile::open(path.string());
  return std::make_shared<RNTuple>(file.file(), read_rntuple_anchor(file, ntuple), ntuple);
}

std::vector<RNTupleFieldResult> read(const RNTupleFieldReader& reader, std::optional<EntryRange> window) {
  RNTupleFieldRead plan = reader.plan(window);
  Executor executor(2);
  executor.run(plan.make_graph());
  return plan.collect();
}

template <typename T>
const T* values(const RNTupleFieldResult& r, std::size_t column) {
  return reinterpret_cast<const T*>(r.columns.at(column).data(sizeof(T)));
}

std::string expected_string(std::int64_t e) {
  return e % 5 == 0 ? std::string() : "entry " + std::to_string(e) + std::string(static_cast<std::size_t>(e % 7), 'x');
}

}  // namespace

TEST_CASE("RNTuple fields by name: values, strings, nested lists, fixed arrays, over an entry range") {
  const RNTupleFieldReader reader({open_fixture("rntuple-zstd.root")}, {"i32", "str", "vvi", "arr", "i32"});
  REQUIRE(reader.field_count() == 4);  // each field read once
  REQUIRE(reader.entries() == 1500);
  CHECK(describe_type(reader.field(0), reader.columns(0)) == "int32");
  CHECK(describe_type(reader.field(1), reader.columns(1)) == "string");
  CHECK(describe_type(reader.field(2), reader.columns(2)) == "var * var * int32");
  CHECK(describe_type(reader.field(3), reader.columns(3)) == "3 * float64");
  // The columns are named for where decoflow-root-decode writes them.
  REQUIRE(reader.columns(2).size() == 3);
  CHECK(reader.columns(2)[0].name == "vvi.offsets");
  CHECK(reader.columns(2)[1].name == "vvi.offsets1");
  CHECK(reader.columns(2)[2].name == "vvi");

  // Entries [250, 620): clusters 0 to 2 are read (only their pages are
  // chunks), the window cut from them.
  const std::int64_t lo = 250, hi = 620;
  {
    const RNTupleFieldRead ranged = reader.plan(EntryRange{lo, hi});
    const RNTupleFieldRead whole = reader.plan();
    REQUIRE(ranged.plan().chunks().size() < whole.plan().chunks().size());
    for (std::size_t c = 0; c < ranged.plan().chunks().size(); ++c) {
      const std::string where = ranged.plan().locate(c)->where;
      REQUIRE((where.find(" cluster 0 ") != std::string::npos || where.find(" cluster 1 ") != std::string::npos ||
               where.find(" cluster 2 ") != std::string::npos));
    }
  }
  const auto results = read(reader, EntryRange{lo, hi});
  for (const auto& r : results) {
    REQUIRE_FALSE(r.failure);
    REQUIRE(r.entries == hi - lo);
  }
  const auto* i32 = values<std::int32_t>(results[0], 0);
  REQUIRE(results[0].columns[0].count == hi - lo);
  for (std::int64_t e = lo; e < hi; ++e) REQUIRE(i32[e - lo] == (e % 3 == 0 ? -e * 1000 : e * 77));

  const auto* offsets = values<std::int64_t>(results[1], 0);
  const auto* chars = reinterpret_cast<const char*>(values<std::uint8_t>(results[1], 1));
  REQUIRE(offsets[0] == 0);
  REQUIRE(static_cast<std::uint64_t>(offsets[hi - lo]) == results[1].columns[1].count);
  for (std::int64_t e = lo; e < hi; ++e) {
    const std::string got(chars + offsets[e - lo], chars + offsets[e - lo + 1]);
    REQUIRE(got == expected_string(e));
  }

  const auto* outer = values<std::int64_t>(results[2], 0);
  const auto* inner = values<std::int64_t>(results[2], 1);
  const auto* vvi = values<std::int32_t>(results[2], 2);
  REQUIRE(outer[0] == 0);
  REQUIRE(inner[0] == 0);
  REQUIRE(static_cast<std::uint64_t>(outer[hi - lo]) == results[2].columns[1].count);
  REQUIRE(static_cast<std::uint64_t>(inner[outer[hi - lo]]) == results[2].columns[2].count);
  std::int64_t lists = 0;
  for (std::int64_t e = lo; e < hi; ++e) {
    REQUIRE(outer[e - lo + 1] - outer[e - lo] < 3);
    for (std::int64_t k = outer[e - lo]; k < outer[e - lo + 1]; ++k, ++lists) {
      REQUIRE(inner[k + 1] - inner[k] == k - outer[e - lo] + e % 2);
      for (std::int64_t j = inner[k]; j < inner[k + 1]; ++j) REQUIRE(vvi[j] == e * 10 + (j - inner[k]));
    }
  }
  REQUIRE(lists > 100);

  const auto* arr = values<double>(results[3], 0);
  REQUIRE(results[3].columns[0].count == 3 * (hi - lo));
  for (std::int64_t e = lo; e < hi; ++e) {
    REQUIRE(arr[3 * (e - lo)] == static_cast<double>(e) * 0.5);
    REQUIRE(arr[3 * (e - lo) + 1] == static_cast<double>(-e) * 0.25);
  }
}

TEST_CASE("RNTuple fields of two files read as one, across the boundary") {
  const RNTupleFieldReader reader({open_fixture("rntuple-zstd.root"), open_fixture("rntuple-lz4.root")},
                                  {"i32", "str"});
  REQUIRE(reader.entries() == 3000);
  const auto results = read(reader, EntryRange{1400, 1700});
  REQUIRE_FALSE(results[0].failure);
  REQUIRE_FALSE(results[1].failure);
  const auto* i32 = values<std::int32_t>(results[0], 0);
  const auto* offsets = values<std::int64_t>(results[1], 0);
  const auto* chars = reinterpret_cast<const char*>(values<std::uint8_t>(results[1], 1));
  for (std::int64_t g = 1400; g < 1700; ++g) {
    const std::int64_t e = g % 1500;  // the second file's entries start again at 0
    REQUIRE(i32[g - 1400] == (e % 3 == 0 ? -e * 1000 : e * 77));
    REQUIRE(std::string(chars + offsets[g - 1400], chars + offsets[g - 1400 + 1]) == expected_string(e));
  }
  // The whole read: every entry of both.
  const auto all = read(reader, std::nullopt);
  REQUIRE(all[0].entries == 3000);
  REQUIRE(values<std::int32_t>(all[0], 0)[2999] == 1499 * 77);
}

TEST_CASE("RNTuple fields by name: records, projected fields and cardinalities (RNTupleImporter)") {
  const auto ntuple = open_fixture("rntuple-nanoaod.root", "Events");
  const RNTupleFieldReader reader({ntuple}, {"_collection0", "Jet_pt", "nJet"});
  CHECK(describe_type(reader.field(0), reader.columns(0)) == "var * {Jet_pt: float32, Jet_eta: float32}");
  CHECK(describe_type(reader.field(1), reader.columns(1)) == "var * float32");
  CHECK(describe_type(reader.field(2), reader.columns(2)) == "int64");
  CHECK(reader.columns(0)[1].name == "_collection0.Jet_pt");
  const auto results = read(reader, std::nullopt);
  for (const auto& r : results) REQUIRE_FALSE(r.failure);
  const std::uint64_t n = results[0].entries;
  REQUIRE(n == 1000);
  // The projection reads the collection's own columns: the same offsets and
  // values; the cardinality is those offsets too.
  const auto* offsets = values<std::int64_t>(results[0], 0);
  const auto* projected = values<std::int64_t>(results[1], 0);
  const auto* cardinality = values<std::int64_t>(results[2], 0);
  for (std::uint64_t e = 0; e <= n; ++e) {
    REQUIRE(projected[e] == offsets[e]);
    REQUIRE(cardinality[e] == offsets[e]);
  }
  const auto jets = static_cast<std::size_t>(offsets[n]);
  REQUIRE(jets > 1000);
  REQUIRE(results[1].columns[1].count == jets);
  const auto* pt = values<float>(results[0], 1);
  const auto* pt_projected = values<float>(results[1], 1);
  for (std::size_t j = 0; j < jets; ++j) REQUIRE(pt[j] == pt_projected[j]);
  // A path goes through records, not into a collection's items.
  const std::string inside =
      require_error(ErrorCode::invalid_argument, [&] { RNTupleFieldReader({ntuple}, {"_collection0._0.Jet_eta"}); });
  CHECK(inside.find("'_collection0' is a ") != std::string::npos);
}

TEST_CASE("RNTuple fields by name: a record's member by its path (ROOT's class inheritance test file)") {
  const auto path = std::filesystem::path(DECOFLOW_TESTDATA_DIR) / "root" / "rntuple" /
                    "test_class_inheritance_rntuple_v1-0-0-1.root";
  if (!std::filesystem::exists(path)) DECOFLOW_SKIP("skipped: shared test data " << path.string() << " not found");
  const RootFile file = RootFile::open(path.string());
  const auto ntuple = std::make_shared<RNTuple>(file.file(), read_rntuple_anchor(file, "rntpl"), "rntpl");
  const RNTupleFieldReader reader({ntuple}, {"child", "child.child_1", "child.:_0.base_a3"});
  CHECK(describe_type(reader.field(0), reader.columns(0)) ==
        "{:_0: {base_a1: int32, base_a2: float64, base_a3: var * int32}, child_1: int32, child_2: float64}");
  CHECK(describe_type(reader.field(2), reader.columns(2)) == "var * int32");
  const auto results = read(reader, EntryRange{3, 8});
  for (const auto& r : results) REQUIRE_FALSE(r.failure);
  // The member read alone equals the member read in its record.
  // The record's columns: base_a1, base_a2, base_a3's offsets and values, child_1, child_2.
  REQUIRE(reader.columns(0)[4].name == "child.child_1");
  REQUIRE(results[1].columns[0].count == 5);
  for (std::size_t e = 0; e < 5; ++e) {
    REQUIRE(values<std::int32_t>(results[1], 0)[e] == values<std::int32_t>(results[0], 4)[e]);
  }
  const auto* a3 = values<std::int64_t>(results[2], 0);
  const auto* a3_in_record = values<std::int64_t>(results[0], 2);
  for (std::size_t e = 0; e <= 5; ++e) REQUIRE(a3[e] == a3_in_record[e]);
}

namespace {

// rntuple-uncompressed.root (envelopes stored raw) with field `name` marked
// as stored with the ROOT streamer (structural role 4), its header's
// xxHash3 and every copy of it (footer, page lists) made to agree again:
// a sound file holding a field decoflow does not decode.
std::shared_ptr<const RNTuple> with_streamer_field(const std::string& name) {
  const auto path = std::filesystem::path(DECOFLOW_FIXTURE_DIR) / "rntuple" / "rntuple-uncompressed.root";
  const RootFile original = RootFile::open(path.string());
  const RNTupleAnchor anchor = read_rntuple_anchor(original, "ntuple");
  REQUIRE(anchor.nbytes_header == anchor.len_header);
  Bytes data = read_file(path.string());
  const auto u64_at = [&](std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, data.data() + at, 8);
    return v;
  };
  const auto rehash = [&](std::size_t start, std::size_t length) {
    const std::uint64_t sum = XXH3_64bits(data.data() + start, length - 8);
    std::memcpy(data.data() + start + length - 8, &sum, 8);
    return sum;
  };
  const auto header = static_cast<std::size_t>(anchor.seek_header);
  const auto header_length = static_cast<std::size_t>(anchor.len_header);
  // A field record: ..., role (u16), flags (u16), name length (u32), name.
  std::string record(4, '\0');
  const auto n = static_cast<std::uint32_t>(name.size());
  std::memcpy(record.data(), &n, 4);
  record += name;
  const std::string text(reinterpret_cast<const char*>(data.data() + header), header_length);
  const std::size_t at = text.find(record);
  REQUIRE(at != std::string::npos);
  data[header + at - 4] = std::byte{4};
  const std::uint64_t old_sum = u64_at(header + header_length - 8);
  const std::uint64_t new_sum = rehash(header, header_length);
  std::size_t copies = 0;
  for (std::size_t p = header + header_length; p + 8 <= data.size(); ++p) {
    if (u64_at(p) != old_sum) continue;
    // The footer: preamble, feature flags, then the header's checksum; a
    // page list: preamble, then it. Each preamble holds its length.
    const std::size_t start = p - 16 == anchor.seek_footer ? p - 16 : p - 8;
    std::memcpy(data.data() + p, &new_sum, 8);
    rehash(start, static_cast<std::size_t>(u64_at(start) >> 16));
    ++copies;
  }
  REQUIRE(copies == 4);  // the footer and three cluster groups' page lists
  const RootFile file = RootFile::open(write_temp_file(data, ".root"));
  return std::make_shared<RNTuple>(file.file(), read_rntuple_anchor(file, "ntuple"), "ntuple");
}

}  // namespace

TEST_CASE("RNTuple fields by name: a refused field and a bad name say which") {
  // A field stored with the ROOT streamer: refused naming the field and its type.
  const auto streamer = with_streamer_field("half");
  const std::string refused =
      require_error(ErrorCode::unsupported_format, [&] { RNTupleFieldReader({streamer}, {"i32", "half"}); });
  CHECK(refused.find("field 'half' (float): fields stored with the ROOT streamer are not decoded") !=
        std::string::npos);
  REQUIRE(RNTupleFieldReader({streamer}, {"i32", "str"}).field_count() == 2);  // the others are read

  const auto ntuple = open_fixture("rntuple-optionals.root");
  // No such field: the fields there are listed.
  const std::string missing =
      require_error(ErrorCode::invalid_argument, [&] { RNTupleFieldReader({ntuple}, {"opt", "nope"}); });
  CHECK(missing.find("no field 'nope'") != std::string::npos);
  CHECK(missing.find("opt, ptr, vbool, ch, var, vopt") != std::string::npos);
  require_error(ErrorCode::invalid_argument, [&] { RNTupleFieldReader({ntuple}, {"opt.nope"}); });
  // Files whose fields differ are not read as one.
  require_error(ErrorCode::invalid_argument,
                [&] { RNTupleFieldReader({ntuple, open_fixture("rntuple-zstd.root")}, {"opt"}); });
  // An optional is a collection of zero or one item; a variant, its
  // (index << 8 | tag) values and alternatives; collected once only.
  const RNTupleFieldReader reader({ntuple}, {"opt", "var"});
  CHECK(describe_type(reader.field(0), reader.columns(0)) == "var * int32");
  CHECK(describe_type(reader.field(1), reader.columns(1)) == "union[int32, float32]");
  CHECK(reader.columns(1)[1].name == "var._0");
  // The variant holds e (odd entries: int32, tag 1) or e / 4 (even ones:
  // float, tag 2) in 3 clusters; over entries [37, 163) each alternative
  // holds just the items of those entries, the indexes counting from 0.
  const auto variant = read(reader, EntryRange{37, 163});
  REQUIRE_FALSE(variant[1].failure);
  const auto* packed = values<std::int64_t>(variant[1], 0);
  const auto* ints = values<std::int32_t>(variant[1], 1);
  const auto* floats = values<float>(variant[1], 2);
  REQUIRE(variant[1].columns[1].count == 63);
  REQUIRE(variant[1].columns[2].count == 63);
  for (std::int64_t e = 37; e < 163; ++e) {
    const std::int64_t tag = packed[e - 37] & 0xFF, index = packed[e - 37] >> 8;
    REQUIRE(tag == (e % 2 ? 1 : 2));
    REQUIRE(index == (e - 37) / 2);
    if (tag == 1) REQUIRE(ints[index] == e);
    if (tag == 2) REQUIRE(floats[index] == static_cast<float>(e) * 0.25f);
  }

  RNTupleFieldRead plan = reader.plan(EntryRange{5, 5});
  Executor executor(1);
  executor.run(plan.make_graph());
  const auto results = plan.collect();
  REQUIRE(results[0].entries == 0);
  REQUIRE(results[0].columns[0].count == 0);
  REQUIRE(values<std::int64_t>(results[0], 0)[0] == 0);
  require_error(ErrorCode::invalid_argument, [&] { plan.collect(); });
}
