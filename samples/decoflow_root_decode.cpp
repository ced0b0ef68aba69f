// decoflow-root-decode: decodes numeric TTree branches of a ROOT file in
// parallel, given their basket table (scripts/root_basket_table.py writes it
// with uproot), into one native-order array per branch.
//
//   FILE.root ──► mmap          TABLE.tsv (branch, type, basket, seek, bytes, entries)
//        │                           │
//        │          plan_root_branches: one array per branch (jagged: sized
//        │          from each TKey's fLast), one chunk per basket
//        ▼                           ▼
//   basket i ──► "baskets" stage: TKey checked ──► ROOT blocks (ZS/L4/ZL/XZ/raw)
//                ──► slice of its branch's array, byteswapped (jagged: content
//                    via scratch, entry offsets ──► global int64 offsets)
//                                    ▼
//   per branch: a summary line; with --output-dir, DIR/BRANCH.bin (values)
//   and DIR/BRANCH.offsets.bin (jagged: int64 entry offsets)
//
// Exit status: 0 when every branch decoded, 1 when a branch failed (each
// failure named on stderr, the other branches still written), 2 for bad
// arguments or an unreadable table.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "decoflow/decoflow.hpp"
#include "decoflow/root_branches.hpp"

namespace {

constexpr const char* usage_text =
    "usage: decoflow-root-decode [--threads N] [--output-dir DIR] FILE.root TABLE.tsv\n"
    "\n"
    "Decodes the branches listed in TABLE.tsv (made by scripts/root_basket_table.py:\n"
    "  python scripts/root_basket_table.py FILE.root:TREE [BRANCH...] > TABLE.tsv)\n"
    "from FILE.root in parallel. Prints one line per branch (entries, values,\n"
    "sum of the values); with --output-dir writes DIR/BRANCH.bin (native-order\n"
    "values) and, for jagged branches, DIR/BRANCH.offsets.bin (int64, entries + 1).\n";

// Reads the table; branches in order of first appearance. Returns false with
// a message on a malformed line.
bool read_table(const char* path, std::vector<decoflow::RootBranchSpec>& specs, std::string& error) {
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
    std::string name, type;
    int jagged = 0;
    std::uint64_t items = 0, basket = 0;
    decoflow::RootBasketRef ref;
    std::getline(cols, name, '\t');
    cols >> type >> jagged >> items >> basket >> ref.seek >> ref.bytes >> ref.entry_begin >>
        ref.entry_end;
    const auto parsed = decoflow::root_type_from_string(type);
    if (!cols || name.empty() || !parsed) {
      error = std::string(path) + ":" + std::to_string(line_no) + ": malformed line";
      return false;
    }
    auto [it, inserted] = index.try_emplace(name, specs.size());
    if (inserted) {
      specs.push_back({name, *parsed, jagged != 0, items, {}});
    }
    auto& spec = specs[it->second];
    if (basket != spec.baskets.size()) {
      error = std::string(path) + ":" + std::to_string(line_no) + ": basket " +
              std::to_string(basket) + " of '" + name + "' out of order";
      return false;
    }
    spec.baskets.push_back(ref);
  }
  return true;
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
  const bool ok = std::fwrite(data, 1, size, f) == size;
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
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = 0;
  std::string output_dir;
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-T" || arg == "--threads") && i + 1 < argc) {
      threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--output-dir" && i + 1 < argc) {
      output_dir = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (positional.size() != 2) {
    std::fputs(usage_text, stderr);
    return 2;
  }

  std::vector<decoflow::RootBranchSpec> specs;
  std::string error;
  if (!read_table(positional[1], specs, error)) {
    std::fprintf(stderr, "decoflow-root-decode: %s\n", error.c_str());
    return 2;
  }

  try {
    const auto start = std::chrono::steady_clock::now();
    auto file = decoflow::InputBuffer::map_file(positional[0]);
    auto plan = decoflow::plan_root_branches(file, specs, positional[0]);
    decoflow::Executor executor(threads);
    executor.run(plan.make_graph());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::vector<bool> failed(specs.size(), false);
    for (const auto& f : plan.failures()) {
      failed[f.branch] = true;
      std::fprintf(stderr, "decoflow-root-decode: %s\n", f.error.what());
    }
    std::uint64_t bytes_out = 0;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (failed[i]) continue;
      const auto content = plan.content(i);
      const std::uint64_t values = plan.content_items(i);
      bytes_out += content->size();
      std::printf("%s\t%s%s\t%llu entries\t%llu values\tsum %.17g\n", specs[i].name.c_str(),
                  specs[i].jagged ? "var * " : "", std::string(to_string(specs[i].type)).c_str(),
                  static_cast<unsigned long long>(plan.entries(i)),
                  static_cast<unsigned long long>(values),
                  sum_values(specs[i].type, content->data(), values));
      if (output_dir.empty()) continue;
      const std::string base = output_dir + "/" + file_name_of(specs[i].name);
      bool ok = write_file(base + ".bin", content->data(), content->size());
      if (const auto offsets = plan.offsets(i)) {
        ok = ok && write_file(base + ".offsets.bin", offsets->data(), offsets->size());
      }
      if (!ok) {
        std::fprintf(stderr, "decoflow-root-decode: cannot write %s: %s\n", base.c_str(),
                     std::strerror(errno));
        return 1;
      }
    }
    std::fprintf(stderr, "%s: %zu branches, %llu bytes out, %.3f s, %u threads\n", positional[0],
                 specs.size(), static_cast<unsigned long long>(bytes_out), seconds,
                 executor.threads());
    return plan.failures().empty() ? 0 : 1;
  } catch (const decoflow::Error& e) {
    std::fprintf(stderr, "decoflow-root-decode: %s\n", e.what());
    return 1;
  }
}
