// decoflow-root-decode: decodes TTree branches of ROOT files in parallel,
// by name (--tree: the tree's metadata read natively, root_tree_meta.hpp) or
// given their basket tables (scripts/root_basket_table.py writes them with
// uproot), into one native-order array per branch. --tree naming an RNTuple
// reads its fields by name (rntuple_fields.hpp): one chunk per page, each
// column written as the TTree route writes a branch's arrays.
//
//   FILE.root ──► mmap          --tree T [--branches a,b]: T's record read natively
//   (one or more: read as one,   or TABLE.tsv (branch, type, layout, basket, seek,
//    entries one after another)  bytes, entries), one per file; entries run on
//                                from one file to the next
//        └───────────┬───────────────┘
//                    ▼
//   RootTree ──plan(--entry-start/stop)──► one chunk per basket holding an entry
//                    ▼                     of the range (jagged, strings: sized
//   "baskets" stage: TKey checked ──►     from each TKey's fLast)
//     ROOT blocks (ZS/L4/ZL/XZ/raw) ──► slice of its branch's array, byteswapped;
//     jagged, strings: entry offsets ──► global int64 offsets; strings: each
//     entry's length bytes checked against its extent
//                    ▼ collect()
//   per branch: a summary line; with --output-dir, DIR/BRANCH.bin (values;
//   strings: the bytes as stored, length bytes included), DIR/BRANCH.offsets.bin
//   (jagged, strings: int64 entry offsets from 0) and DIR/BRANCH.starts.bin
//   (strings: int64, where each entry's bytes begin after its length), of the range
//
// Exit status: 0 when every branch decoded, 1 when a branch failed (each
// failure named on stderr, the other branches still written), 2 for bad
// arguments or an unreadable or inconsistent table.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "decoflow/decoflow.hpp"
#include "decoflow/root_branches.hpp"
#include "decoflow/root_file.hpp"
#include "decoflow/root_tree_meta.hpp"
#include "decoflow/rntuple.hpp"
#include "decoflow/rntuple_fields.hpp"
#include "thread_count.hpp"

namespace {

constexpr const char* usage_text =
    "usage: decoflow-root-decode [--threads N] [--entry-start N] [--entry-stop N]\n"
    "                            [--output-dir DIR] --tree TREE [--branches A,B,...]\n"
    "                            FILE.root [FILE.root ...]\n"
    "       decoflow-root-decode [options] FILE.root TABLE.tsv [FILE.root TABLE.tsv ...]\n"
    "\n"
    "With --tree, reads the tree's metadata natively (no table, no Python) and\n"
    "decodes the branches named by --branches (paths or names, comma-separated;\n"
    "default: every branch whose type the native reader tells, the others listed\n"
    "on stderr as skipped); several files are read as one tree.\n"
    "When TREE names an RNTuple (ROOT::RNTuple), --tree reads it the same way:\n"
    "--branches (or --fields) names its fields (top-level names, or paths through\n"
    "records: event.x; default: every field read natively, the others listed on\n"
    "stderr as skipped: streamer fields). Fields are numbers, strings, collections\n"
    "(std::vector, RVec, std::optional, ...: nested too), fixed-size arrays,\n"
    "records, std::variant and projected fields. Prints one line per field (its\n"
    "type as awkward writes it, entries, values, their sum); with --output-dir\n"
    "writes each column: DIR/PATH.bin (values; strings: their bytes; a cardinality:\n"
    "the counts; a variant: int64 index << 8 | tag, tag k + 1 for alternative k at\n"
    "PATH._k) and DIR/PATH.offsets.bin, PATH.offsets1.bin, ... (int64 from 0, one\n"
    "per list level of a collection or string); a record's members at PATH.MEMBER.\n"
    "Only the clusters holding the entries are decoded. A field whose page does not\n"
    "decode fails alone (exit 1, naming field, column, cluster, page and byte range).\n"
    "Otherwise decodes the branches listed in TABLE.tsv (made by scripts/root_basket_table.py:\n"
    "  python scripts/root_basket_table.py FILE.root:TREE [BRANCH...] > TABLE.tsv)\n"
    "from FILE.root in parallel. Several FILE TABLE pairs are read as one tree, their\n"
    "entries one after another (each table must list the same branches and types).\n"
    "Branches are fixed (x/F, x[3]/F), jagged (x[n]/F, std::vector<T>), strings\n"
    "(char*, std::string: each entry's length bytes are checked) or, with --tree,\n"
    "nested (std::vector<std::vector<T>>, std::vector<std::string>). Prints one line\n"
    "per branch (entries, values, sum of the values); with --output-dir writes\n"
    "DIR/BRANCH.bin (native-order values; strings: the bytes as stored), for\n"
    "jagged, strings and nested branches DIR/BRANCH.offsets.bin (int64, entries + 1,\n"
    "starting at 0), for strings DIR/BRANCH.starts.bin (int64: where each entry's\n"
    "bytes begin after its length), for nested ones DIR/BRANCH.offsets1.bin, ...\n"
    "(each level below the entries': its lists' or strings' ends, from 0).\n"
    "\n"
    "  --entry-start N, --entry-stop N   only entries [N, M) (as uproot: negative\n"
    "                                    counts from the end; clipped); only the\n"
    "                                    baskets holding them are decoded\n"
    "  --threads N                       engine threads (default: one per CPU)\n";

// Reads the table; branches in order of first appearance. Returns false with
// a message on a malformed line.
bool read_table(const char* path, std::vector<decoflow::RootBranchSpec>& specs,
                std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = std::string("cannot open ") + path + ": " + std::strerror(errno);
    return false;
  }
  std::map<std::string, std::size_t> index;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string name, type, layout;
    std::uint64_t items = 0, basket = 0;
    decoflow::RootBasketRef ref;
    std::getline(cols, name, '\t');
    cols >> type >> layout >> items >> basket >> ref.seek >> ref.bytes >> ref.entry_begin >>
        ref.entry_end;
    // Tables written before strings were read say 0 / 1 for fixed / jagged;
    // "jagged:10" is a jagged branch with 10 header bytes per entry.
    if (layout == "0" || layout == "1") layout = layout == "1" ? "jagged" : "fixed";
    unsigned header_bytes = 0;
    if (const auto colon = layout.find(':'); colon != std::string::npos) {
      header_bytes = static_cast<unsigned>(std::strtoul(layout.c_str() + colon + 1, nullptr, 10));
      layout.resize(colon);
    }
    const auto parsed = decoflow::root_type_from_string(type);
    const auto parsed_layout = decoflow::column_layout_from_string(layout);
    if (!cols || name.empty() || !parsed || !parsed_layout || header_bytes > 255) {
      error = std::string(path) + ":" + std::to_string(line_no) +
              ": malformed line (want: branch, type, layout, items, basket, seek, bytes, "
              "entry_begin, entry_end, tab-separated)";
      return false;
    }
    auto [it, inserted] = index.try_emplace(name, specs.size());
    if (inserted) {
      decoflow::RootBranchSpec spec;
      spec.name = name;
      spec.type = *parsed;
      spec.layout = *parsed_layout;
      spec.items_per_entry = items;
      spec.header_bytes = static_cast<std::uint8_t>(header_bytes);
      specs.push_back(std::move(spec));
    }
    auto& spec = specs[it->second];
    if (basket != spec.baskets.size()) {
      error = std::string(path) + ":" + std::to_string(line_no) + ": basket " +
              std::to_string(basket) + " of '" + name + "' out of order";
      return false;
    }
    ref.number = basket;
    spec.baskets.push_back(ref);
  }
  return true;
}

// The entries a table's branches hold (each branch's last entry_end: they
// must agree, a tree's branches have the same entries).
std::optional<std::uint64_t> table_entries(const std::vector<decoflow::RootBranchSpec>& specs,
                                           const char* path, std::string& error) {
  std::optional<std::uint64_t> entries;
  for (const auto& spec : specs) {
    const std::uint64_t end = spec.baskets.empty() ? 0 : spec.baskets.back().entry_end;
    if (entries && *entries != end) {
      error = std::string(path) + ": branch '" + spec.name + "' ends at entry " +
              std::to_string(end) + ", '" + specs.front().name + "' at " + std::to_string(*entries);
      return std::nullopt;
    }
    entries = end;
  }
  return entries.value_or(0);
}

// Appends file `file`'s table to `merged` (the first table: becomes it): its
// baskets join the same-named branch, entries shifted past the files before.
bool append_file(std::vector<decoflow::RootBranchSpec>& merged,
                 std::vector<decoflow::RootBranchSpec> table, std::uint32_t file,
                 std::uint64_t entry_base, const char* path, std::string& error) {
  for (auto& spec : table) {
    for (auto& ref : spec.baskets) {
      ref.file = file;
      ref.entry_begin += entry_base;
      ref.entry_end += entry_base;
    }
  }
  if (file == 0) {
    merged = std::move(table);
    return true;
  }
  const auto same = [](const decoflow::RootBranchSpec& a, const decoflow::RootBranchSpec& b) {
    return a.type == b.type && a.layout == b.layout && a.items_per_entry == b.items_per_entry &&
           a.header_bytes == b.header_bytes;
  };
  if (table.size() != merged.size()) {
    error = std::string(path) + ": lists " + std::to_string(table.size()) +
            " branches, the first table " + std::to_string(merged.size());
    return false;
  }
  for (auto& spec : table) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& m) { return m.name == spec.name; });
    if (it == merged.end() || !same(*it, spec)) {
      error = std::string(path) + ": branch '" + spec.name + "' " +
              (it == merged.end() ? "is not in the first table"
                                  : "differs in type from the first table's");
      return false;
    }
    it->baskets.insert(it->baskets.end(), spec.baskets.begin(), spec.baskets.end());
  }
  return true;
}

// uproot's rules for an entry range: negative counts from the end, then
// clipped to [0, entries], stop not before start.
std::pair<std::uint64_t, std::uint64_t> entry_range(std::optional<long long> start,
                                                    std::optional<long long> stop,
                                                    std::uint64_t entries) {
  const auto n = static_cast<long long>(entries);
  auto resolve = [n](long long v) { return std::clamp(v < 0 ? v + n : v, 0LL, n); };
  const long long lo = resolve(start.value_or(0));
  const long long hi = std::max(resolve(stop.value_or(n)), lo);
  return {static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)};
}

std::optional<long long> parse_entry(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return std::nullopt;
  return v;
}

std::string file_name_of(const std::string& branch) {
  std::string out = branch;
  for (char& c : out) {
    if (c == '/' || c == '\\' || c == ' ') c = '_';
  }
  return out;
}

bool write_file(const std::string& path, const std::byte* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

// Sum of the values as a double: a quick fingerprint for humans and tests.
double sum_values(decoflow::RootType type, const std::byte* p, std::uint64_t n) {
  double s = 0;
  auto add = [&](auto tag) {
    using T = decltype(tag);
    for (std::uint64_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, p + i * sizeof(T), sizeof(T));
      s += static_cast<double>(v);
    }
  };
  using decoflow::RootType;
  switch (type) {
    case RootType::boolean: add(std::uint8_t{}); break;
    case RootType::int8: add(std::int8_t{}); break;
    case RootType::uint8: add(std::uint8_t{}); break;
    case RootType::int16: add(std::int16_t{}); break;
    case RootType::uint16: add(std::uint16_t{}); break;
    case RootType::int32: add(std::int32_t{}); break;
    case RootType::uint32: add(std::uint32_t{}); break;
    case RootType::int64: add(std::int64_t{}); break;
    case RootType::uint64: add(std::uint64_t{}); break;
    case RootType::float32: add(float{}); break;
    case RootType::float64: add(double{}); break;
    case RootType::float16:  // RNTuple's Real16: IEEE half precision
      for (std::uint64_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        const int exponent = (h >> 10) & 0x1F;
        const double mantissa = h & 0x3FF;
        const double v = exponent == 0    ? std::ldexp(mantissa, -24)
                         : exponent == 31 ? (mantissa != 0 ? NAN : INFINITY)
                                          : std::ldexp(1024 + mantissa, exponent - 25);
        s += (h & 0x8000) ? -v : v;
      }
      break;
  }
  return s;
}

// Branch `name` of `meta` as uproot looks it up: by path, then by name.
const decoflow::RootBranchMeta* find_branch(const decoflow::RootTreeMeta& meta,
                                            const std::string& name) {
  for (const auto& b : meta.branches) {
    if (b.path == name) return &b;
  }
  for (const auto& b : meta.branches) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

// The branches of `tree` in `paths` (read as one), natively: their specs
// (root_branch_spec over the files), the files as RootFile mapped them, and
// the embedded baskets' bytes. Returns false with a message for a missing
// tree or branch, or a named branch the native reader does not type.
bool native_specs(const std::vector<const char*>& paths, const std::string& tree,
                  const std::vector<std::string>& wanted,
                  std::vector<decoflow::RootBranchSpec>& specs,
                  std::vector<std::shared_ptr<const decoflow::InputBuffer>>& files,
                  std::vector<std::shared_ptr<const decoflow::InputBuffer>>& embedded,
                  std::uint64_t& total_entries, std::string& error) {
  std::vector<decoflow::RootTreeMeta> metas;
  for (const char* path : paths) {
    const decoflow::RootFile file = decoflow::RootFile::open(path);
    const auto key = file.find(tree);
    if (!key || key->class_name != "TTree") {
      error = std::string(path) + ": no TTree '" + tree + "'";
      return false;
    }
    metas.push_back(decoflow::read_root_tree(file, *key));
    files.push_back(file.file());
    total_entries += metas.back().entries;
  }
  std::vector<std::string> chosen = wanted;
  if (wanted.empty()) {  // every branch the first file's metadata types
    for (const auto& b : metas[0].branches) {
      if (b.kind) {
        chosen.push_back(b.path);
      } else {
        std::fprintf(stderr, "decoflow-root-decode: skipped '%s': %s\n", b.path.c_str(),
                     b.unknown.c_str());
      }
    }
  }
  std::vector<std::vector<std::byte>> kept;
  for (const auto& name : chosen) {
    std::vector<const decoflow::RootBranchMeta*> per_file;
    for (std::size_t k = 0; k < paths.size(); ++k) {
      const decoflow::RootBranchMeta* b = find_branch(metas[k], name);
      if (!b) {
        error = std::string(paths[k]) + ":" + tree + ": no branch '" + name + "'";
        return false;
      }
      if (!b->kind) {
        error = std::string(paths[k]) + ":" + tree + ": branch '" + name +
                "' cannot be read natively: " + b->unknown;
        return false;
      }
      per_file.push_back(b);
    }
    specs.push_back(decoflow::root_branch_spec(per_file, static_cast<std::uint32_t>(paths.size()),
                                               kept));
  }
  for (auto& bytes : kept) embedded.push_back(decoflow::InputBuffer::from_bytes(std::move(bytes)));
  return true;
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = std::min(list.find(',', at), list.size());
    if (comma > at) out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// The RNTuple `name` of each file (read as one), natively.
std::vector<std::shared_ptr<const decoflow::RNTuple>> open_rntuples(const std::vector<const char*>& paths,
                                                                    const std::string& name) {
  std::string bare = name.substr(0, name.find(';'));
  bare = bare.substr(bare.rfind('/') + 1);
  std::vector<std::shared_ptr<const decoflow::RNTuple>> out;
  for (const char* path : paths) {
    const decoflow::RootFile file = decoflow::RootFile::open(path);
    out.push_back(std::make_shared<decoflow::RNTuple>(file.file(), decoflow::read_rntuple_anchor(file, name),
                                                      bare));
  }
  return out;
}

// The columns of `node` that are ROOT::RNTupleCardinality's (offsets read,
// counts written).
void cardinality_columns(const decoflow::RNTupleFieldNode& node, std::vector<bool>& out) {
  if (node.kind == decoflow::RNTupleFieldNode::Kind::cardinality) out[node.column] = true;
  for (const auto& child : node.children) cardinality_columns(child, out);
}

// --tree naming an RNTuple: its fields by name (--branches / --fields), the
// same range, output and exit status rules as for a TTree. Each column of
// a field is written as DIR/NAME.bin (RNTupleFieldColumn's names: values,
// a string's characters, or PATH.offsets, PATH.offsets1, ...: int64 from 0).
int decode_rntuple(const std::vector<const char*>& paths, const std::string& name,
                   std::vector<std::string> wanted, std::optional<long long> entry_start,
                   std::optional<long long> entry_stop, unsigned threads, const std::string& output_dir) {
  std::optional<decoflow::RNTupleFieldReader> reader;
  try {
    const auto ntuples = open_rntuples(paths, name);
    if (wanted.empty()) {  // every top-level field read natively; the others listed as skipped
      for (const std::string& field : decoflow::rntuple_top_fields(*ntuples.front())) {
        std::vector<decoflow::RNTupleFieldColumn> columns;
        try {
          decoflow::plan_rntuple_field(*ntuples.front(), field, columns);
          wanted.push_back(field);
        } catch (const decoflow::Error& e) {
          if (e.code() != decoflow::ErrorCode::unsupported_format) throw;
          std::fprintf(stderr, "decoflow-root-decode: skipped '%s': %s\n", field.c_str(), e.cause().c_str());
        }
      }
      if (wanted.empty()) {
        std::fprintf(stderr, "decoflow-root-decode: %s:%s: no field is read natively\n", paths[0], name.c_str());
        return 2;
      }
    }
    reader.emplace(ntuples, wanted);
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "decoflow-root-decode: %s:%s: %s\n", paths[0], name.c_str(), e.cause().c_str());
    return 2;
  }
  const bool ranged = entry_start || entry_stop;
  const auto [start, stop] = entry_range(entry_start, entry_stop, reader->entries());
  try {
    const auto clock_start = std::chrono::steady_clock::now();
    auto read = reader->plan(ranged ? std::optional<decoflow::EntryRange>({start, stop}) : std::nullopt);
    decoflow::Executor executor(threads);
    executor.run(read.make_graph());
    const auto results = read.collect();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();

    std::uint64_t bytes_out = 0;
    bool failed = false;
    for (std::size_t i = 0; i < results.size(); ++i) {
      const decoflow::RNTupleFieldResult& r = results[i];
      if (r.failure) {
        failed = true;
        std::fprintf(stderr, "decoflow-root-decode: %s\n", r.failure->what());
        continue;
      }
      const auto& columns = reader->columns(i);
      std::vector<bool> cardinality(columns.size());
      cardinality_columns(reader->field(i), cardinality);
      std::uint64_t values = 0;
      double sum = 0;
      bool ok = true;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        const decoflow::RNTupleColumnValues& v = r.columns[c];
        const std::size_t width = decoflow::root_type_width(columns[c].type);
        const std::string file = output_dir + "/" + file_name_of(columns[c].name) + ".bin";
        if (cardinality[c]) {  // each entry's size: the differences of its offsets
          std::vector<std::int64_t> counts(v.count);
          const auto* off = reinterpret_cast<const std::int64_t*>(v.data(width));
          for (std::uint64_t j = 0; j < v.count; ++j) counts[j] = off[j + 1] - off[j];
          values += v.count;
          sum += static_cast<double>(off[v.count]);
          bytes_out += v.count * width;
          if (!output_dir.empty()) {
            ok = ok && write_file(file, reinterpret_cast<const std::byte*>(counts.data()), v.count * width);
          }
          continue;
        }
        const std::uint64_t items = columns[c].offsets ? v.count + 1 : v.count;
        if (!columns[c].offsets) {
          values += v.count;
          sum += sum_values(columns[c].type, v.data(width), v.count);
        }
        bytes_out += items * width;
        if (!output_dir.empty()) ok = ok && write_file(file, v.data(width), items * width);
      }
      std::printf("%s\t%s\t%llu entries\t%llu values\tsum %.17g\n", reader->field_name(i).c_str(),
                  decoflow::describe_type(reader->field(i), columns).c_str(),
                  static_cast<unsigned long long>(r.entries), static_cast<unsigned long long>(values), sum);
      if (!ok) {
        std::fprintf(stderr, "decoflow-root-decode: cannot write field '%s' into %s: %s\n",
                     reader->field_name(i).c_str(), output_dir.c_str(), std::strerror(errno));
        return 1;
      }
    }
    std::fprintf(stderr, "%s%s: RNTuple '%s', entries [%llu, %llu), %zu fields, %llu bytes out, %.3f s, %u threads\n",
                 paths[0], paths.size() > 1 ? " (+ more files)" : "", name.c_str(),
                 static_cast<unsigned long long>(start), static_cast<unsigned long long>(stop), results.size(),
                 static_cast<unsigned long long>(bytes_out), seconds, executor.threads());
    return failed ? 1 : 0;
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "decoflow-root-decode: %s\n", e.what());
    return 1;
  }
}

// Whether `name` in the ROOT file at `path` is an RNTuple (--tree takes
// either); false when it is anything else or absent (the TTree route says).
bool names_rntuple(const char* path, const std::string& name) {
  const auto key = decoflow::RootFile::open(path).find(name);
  return key && key->class_name == "ROOT::RNTuple";
}

}  // namespace

// Whether the file at `path` starts like a ROOT file ("root" magic): tells
// FILE.root and TABLE.tsv apart when they are given the wrong way round.
bool looks_like_root(const char* path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "root", 4) == 0;
}

int main(int argc, char** argv) {
  unsigned threads = 0;
  std::string output_dir, tree_name;
  std::vector<std::string> wanted;
  std::optional<long long> entry_start, entry_stop;
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-T" || arg == "--threads") && i + 1 < argc) {
      const auto n = decoflow_samples::parse_thread_count(argv[++i]);
      if (!n) {
        std::fprintf(stderr, "decoflow-root-decode: --threads wants a number from 0 (one per CPU) "
                             "to 4096, not '%s'\n", argv[i]);
        return 2;
      }
      threads = *n;
    } else if (arg == "--tree" && i + 1 < argc) {
      tree_name = argv[++i];
    } else if ((arg == "--branches" || arg == "--fields") && i + 1 < argc) {
      wanted = split_names(argv[++i]);
    } else if (arg == "--output-dir" && i + 1 < argc) {
      output_dir = argv[++i];
    } else if ((arg == "--entry-start" || arg == "--entry-stop") && i + 1 < argc) {
      const auto v = parse_entry(argv[++i]);
      if (!v) {
        std::fprintf(stderr, "decoflow-root-decode: %s wants an integer, not '%s'\n",
                     arg.c_str(), argv[i]);
        return 2;
      }
      (arg == "--entry-start" ? entry_start : entry_stop) = v;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    } else {
      positional.push_back(argv[i]);
    }
  }
  const bool native = !tree_name.empty();
  if (positional.empty() || (!native && positional.size() % 2 != 0) ||
      (!native && !wanted.empty())) {
    std::fputs(usage_text, stderr);
    return 2;
  }

  if (native) {
    bool rntuple = false;
    try {
      rntuple = names_rntuple(positional[0], tree_name);
    } catch (const decoflow::Error& e) {
      std::fprintf(stderr, "decoflow-root-decode: %s\n", e.what());
      return 2;
    }
    if (rntuple) {
      return decode_rntuple(positional, tree_name, wanted, entry_start, entry_stop, threads, output_dir);
    }
  }

  for (std::size_t k = 0; !native && k < positional.size(); k += 2) {
    if (!looks_like_root(positional[k]) && looks_like_root(positional[k + 1])) {
      std::fprintf(stderr,
                   "decoflow-root-decode: '%s' is a ROOT file and '%s' is not: give each "
                   "FILE.root first, then its TABLE.tsv\n",
                   positional[k + 1], positional[k]);
      return 2;
    }
  }

  std::vector<decoflow::RootBranchSpec> specs;
  std::uint64_t total_entries = 0;
  std::string error;
  std::vector<std::shared_ptr<const decoflow::InputBuffer>> files, embedded;
  if (native) {
    try {
      if (!native_specs(positional, tree_name, wanted, specs, files, embedded, total_entries,
                        error)) {
        std::fprintf(stderr, "decoflow-root-decode: %s\n", error.c_str());
        return 2;
      }
    } catch (const decoflow::Error& e) {
      std::fprintf(stderr, "decoflow-root-decode: %s\n", e.what());
      return 2;
    }
  }
  for (std::size_t k = 0; !native && k < positional.size() / 2; ++k) {
    const char* table_path = positional[2 * k + 1];
    std::vector<decoflow::RootBranchSpec> table;
    std::optional<std::uint64_t> entries;
    if (!read_table(table_path, table, error) ||
        !(entries = table_entries(table, table_path, error)) ||
        !append_file(specs, std::move(table), static_cast<std::uint32_t>(k), total_entries,
                     table_path, error)) {
      std::fprintf(stderr, "decoflow-root-decode: %s\n", error.c_str());
      return 2;
    }
    total_entries += *entries;
  }
  const bool ranged = entry_start || entry_stop;
  const auto [start, stop] = entry_range(entry_start, entry_stop, total_entries);

  try {
    const auto clock_start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; !native && k < positional.size(); k += 2) {
      files.push_back(decoflow::InputBuffer::map_file(positional[k]));
    }
    const decoflow::RootTree tree(std::move(files), specs, positional[0], std::move(embedded));
    auto plan = tree.plan(ranged ? std::optional<decoflow::EntryRange>({start, stop}) : std::nullopt);
    decoflow::Executor executor(threads);
    executor.run(plan.make_graph());
    const auto results = plan.collect();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();

    std::uint64_t bytes_out = 0;
    bool failed = false;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const decoflow::RootBranchResult& r = results[i];
      if (r.failure) {
        failed = true;
        std::fprintf(stderr, "decoflow-root-decode: %s\n", r.failure->error.what());
        continue;
      }
      const auto& spec = specs[i];
      const std::size_t width = decoflow::value_width(spec);
      const std::byte* values = r.content->data() + r.content_begin * width;
      const std::uint64_t bytes = r.content_items * width;
      bytes_out += bytes;
      std::string shape = spec.layout == decoflow::ColumnLayout::jagged    ? "var * "
                          : spec.layout == decoflow::ColumnLayout::strings ? "strings of "
                                                                           : "";
      if (spec.layout == decoflow::ColumnLayout::nested) {
        for (unsigned l = 0; l <= spec.depth; ++l) shape += "var * ";
        if (spec.leaf_strings) shape += "strings of ";
      }
      std::printf("%s\t%s%s\t%llu entries\t%llu values\tsum %.17g\n", spec.name.c_str(), shape.c_str(),
                  std::string(to_string(spec.type)).c_str(),
                  static_cast<unsigned long long>(r.entries),
                  static_cast<unsigned long long>(r.content_items),
                  sum_values(spec.type, values, r.content_items));
      if (output_dir.empty()) continue;
      const std::string base = output_dir + "/" + file_name_of(spec.name);
      const auto int64_range = [](const decoflow::DestinationArray& a, std::uint64_t first) {
        return a.data() + first * sizeof(std::int64_t);
      };
      bool ok = write_file(base + ".bin", values, bytes);
      if (r.offsets) {
        ok = ok && write_file(base + ".offsets.bin", int64_range(*r.offsets, r.entry_begin),
                              (r.entries + 1) * sizeof(std::int64_t));
      }
      if (r.starts) {
        ok = ok && write_file(base + ".starts.bin", int64_range(*r.starts, r.entry_begin),
                              r.entries * sizeof(std::int64_t));
      }
      for (std::size_t l = 0; l < r.levels.size(); ++l) {  // nested: the levels below
        const auto& level = r.levels[l];
        ok = ok && write_file(base + ".offsets" + std::to_string(l + 1) + ".bin",
                              int64_range(*level.offsets, level.begin),
                              (level.count + 1) * sizeof(std::int64_t));
      }
      if (!ok) {
        std::fprintf(stderr, "decoflow-root-decode: cannot write %s: %s\n", base.c_str(),
                     std::strerror(errno));
        return 1;
      }
    }
    std::fprintf(stderr,
                 "%s%s: entries [%llu, %llu), %zu branches, %llu bytes out, %.3f s, %u threads\n",
                 positional[0], positional.size() > (native ? 1u : 2u) ? " (+ more files)" : "",
                 static_cast<unsigned long long>(start), static_cast<unsigned long long>(stop),
                 specs.size(), static_cast<unsigned long long>(bytes_out), seconds,
                 executor.threads());
    return failed ? 1 : 0;
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "decoflow-root-decode: %s\n", e.what());
    return 1;
  }
}
