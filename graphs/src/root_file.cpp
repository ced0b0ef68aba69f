#include "decoflow/root_file.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "decoflow/decoder.hpp"
#include "decoflow/root_buffer.hpp"

namespace decoflow {

namespace {

constexpr std::uint32_t large_file_version = 1000000;
constexpr std::uint16_t large_record_version = 1000;

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

[[noreturn]] void corrupt(std::string message) {
  throw Error(ErrorCode::corrupt_input, std::move(message));
}

std::string range(std::uint64_t at, std::uint64_t n) {
  return "file bytes [" + std::to_string(at) + ", +" + std::to_string(n) + ")";
}

// A TKey header at the cursor: its fields, and its sizes checked against
// each other (a header that lies about its length is refused here).
RootKey parse_key_header(RootBuffer& in, std::uint64_t& seek_key) {
  const std::size_t at = in.position();
  RootKey k;
  const std::int32_t nbytes = in.i32("TKey fNbytes");
  k.version = in.u16("TKey version");
  const std::int32_t objlen = in.i32("TKey fObjlen");
  in.u32("TKey fDatime");
  const std::int16_t keylen = in.i16("TKey fKeylen");
  k.cycle = in.u16("TKey fCycle");
  const bool big = k.version > large_record_version;
  seek_key = big ? in.u64("TKey fSeekKey") : in.u32("TKey fSeekKey");
  k.seek_pdir = big ? in.u64("TKey fSeekPdir") : in.u32("TKey fSeekPdir");
  k.class_name = in.tstring("TKey fClassName");
  k.name = in.tstring("TKey fName");
  k.title = in.tstring("TKey fTitle");
  const std::size_t header = in.position() - at;
  // fKeylen may be less than the header read (some writers count it short);
  // the payload starts at fKeylen all the same.
  if (nbytes < 0 || objlen < 0 || keylen <= 0 || keylen > nbytes) {
    in.fail("the TKey of " + quoted(k.name), at, header,
            "inconsistent sizes (fNbytes " + std::to_string(nbytes) + ", fKeylen " +
                std::to_string(keylen) + ", fObjlen " + std::to_string(objlen) + ", header " +
                std::to_string(header) + " bytes)");
  }
  k.nbytes = static_cast<std::uint32_t>(nbytes);
  k.objlen = static_cast<std::uint32_t>(objlen);
  k.keylen = static_cast<std::uint16_t>(keylen);
  return k;
}

}  // namespace

bool is_root_directory_class(std::string_view class_name) noexcept {
  return class_name == "TDirectory" || class_name == "TDirectoryFile";
}

RootFile RootFile::open(const std::string& path) { return RootFile(InputBuffer::map_file(path), path); }

RootFile::RootFile(std::shared_ptr<const InputBuffer> file, std::string name)
    : file_(std::move(file)), name_(std::move(name)) {
  if (!file_) throw Error(ErrorCode::invalid_argument, "RootFile: no file");
  RootBuffer in(file_->bytes(), name_ + ": file header", true);
  if (in.size() < 4 || std::string_view(reinterpret_cast<const char*>(in.bytes().data()), 4) != "root") {
    corrupt(name_ + ": not a ROOT file (it does not start with \"root\"; " +
            std::to_string(in.size()) + " bytes)");
  }
  in.skip(4, "magic");
  version_ = in.u32("fVersion");
  const bool large = version_ >= large_file_version;
  const std::uint64_t begin = in.u32("fBEGIN");
  const std::uint64_t end = large ? in.u64("fEND") : in.u32("fEND");
  if (large) in.u64("fSeekFree"); else in.u32("fSeekFree");
  in.u32("fNbytesFree");
  in.u32("nfree");
  const std::uint32_t nbytes_name = in.u32("fNbytesName");
  in.u8("fUnits");
  in.u32("fCompress");
  seek_info_ = large ? in.u64("fSeekInfo") : in.u32("fSeekInfo");
  if (end > in.size()) {
    corrupt(name_ + ": the file is cut short: its header says it ends at byte " +
            std::to_string(end) + ", it has " + std::to_string(in.size()));
  }
  // The top directory's record follows the file's own key and name.
  if (begin + nbytes_name > in.size()) {
    corrupt(name_ + ": the top directory record (" + range(begin + nbytes_name, 0) +
            ") lies outside the " + std::to_string(in.size()) + "-byte file");
  }
  const ConstBytes record = file_->bytes().subspan(begin + nbytes_name);
  top_ = read_directory_record(record, "", "the top directory (at file byte " +
                                                std::to_string(begin + nbytes_name) + ")");
}

RootKey RootFile::read_key(std::uint64_t seek, std::string_view what) const {
  const ConstBytes all = file_->bytes();
  if (seek >= all.size()) {
    corrupt(name_ + ": " + std::string(what) + " at file byte " + std::to_string(seek) +
            " lies outside the " + std::to_string(all.size()) + "-byte file");
  }
  RootBuffer in(all, name_ + ": " + std::string(what), true);
  in.seek(seek, "its TKey");
  std::uint64_t seek_key = 0;
  RootKey k = parse_key_header(in, seek_key);
  k.seek = seek;
  if (seek + k.nbytes > all.size()) {
    corrupt(describe(k) + ": lies outside the " + std::to_string(all.size()) + "-byte file");
  }
  // A keys list's entry names where the object is: it must be where we read it.
  if (seek_key != 0 && seek_key != seek) {
    corrupt(describe(k) + ": its TKey says it is at file byte " + std::to_string(seek_key));
  }
  return k;
}

std::string RootFile::describe(const RootKey& key) const {
  return name_ + ": key " + quoted(key.name + ";" + std::to_string(key.cycle)) + " (" +
         key.class_name + ", " + range(key.seek, key.nbytes) + ")";
}

std::vector<std::byte> RootFile::read_object(const RootKey& key) const {
  const ConstBytes all = file_->bytes();
  if (key.seek + key.nbytes > all.size() || key.keylen > key.nbytes) {
    corrupt(describe(key) + ": lies outside the " + std::to_string(all.size()) + "-byte file");
  }
  const ConstBytes stored = all.subspan(key.seek + key.keylen, key.nbytes - key.keylen);
  std::vector<std::byte> out(key.objlen);
  if (stored.size() == out.size()) {
    std::copy(stored.begin(), stored.end(), out.begin());
    return out;
  }
  try {
    const std::size_t n = thread_decoder().root_blocks_into(stored, out);
    if (n != out.size()) {
      throw Error(ErrorCode::size_mismatch, "decoded " + std::to_string(n) + " bytes, fObjlen is " +
                                                std::to_string(out.size()));
    }
  } catch (const Error& e) {
    throw Error(e.code() == ErrorCode::unsupported_format ? e.code() : ErrorCode::corrupt_input,
                describe(key) + ": its payload does not decode to fObjlen " +
                    std::to_string(key.objlen) + " bytes: " + e.cause());
  }
  return out;
}

RootDirectory RootFile::read_directory_record(ConstBytes record, std::string path,
                                              std::string_view what) const {
  RootBuffer in(record, name_ + ": " + std::string(what));
  RootDirectory d;
  d.path = std::move(path);
  const std::int16_t version = in.i16("TDirectory version");
  in.u32("fDatimeC");
  in.u32("fDatimeM");
  in.i32("fNbytesKeys");
  in.i32("fNbytesName");
  const bool big = version > static_cast<std::int16_t>(large_record_version);
  d.seek_dir = big ? in.u64("fSeekDir") : in.u32("fSeekDir");
  big ? in.u64("fSeekParent") : in.u32("fSeekParent");
  d.seek_keys = big ? in.u64("fSeekKeys") : in.u32("fSeekKeys");
  if (d.seek_keys == 0) return d;  // an empty directory never written to
  const std::string list = "the keys list of directory " + quoted(d.path);
  const RootKey head = read_key(d.seek_keys, list);
  RootBuffer keys(file_->bytes().subspan(0, head.seek + head.nbytes), name_ + ": " + list, true);
  keys.seek(head.seek + head.keylen, "its key count");
  const std::int32_t n = keys.i32("its key count");
  // Each TKey header takes at least 26 bytes: a count beyond that lies.
  if (n < 0 || static_cast<std::uint64_t>(n) * 26 > keys.remaining()) {
    keys.fail("its key count", keys.position() - 4, 4,
              std::to_string(n) + " keys cannot fit in " + std::to_string(keys.remaining()) +
                  " bytes");
  }
  d.keys.reserve(static_cast<std::size_t>(n));
  std::uint64_t at = keys.position();
  for (std::int32_t i = 0; i < n; ++i) {
    // The list holds headers only (fSeekKey says where each object is).
    RootBuffer h(file_->bytes().subspan(0, head.seek + head.nbytes), name_ + ": " + list, true);
    h.seek(at, "a key header");
    std::uint64_t listed_seek = 0;
    RootKey k = parse_key_header(h, listed_seek);
    k.seek = listed_seek;
    if (k.seek + k.nbytes > file_->size()) {
      corrupt(describe(k) + ": lies outside the " + std::to_string(file_->size()) + "-byte file");
    }
    at = h.position();
    d.keys.push_back(std::move(k));
  }
  return d;
}

RootDirectory RootFile::directory(const RootKey& key, std::string_view parent_path) const {
  if (!is_root_directory_class(key.class_name)) {
    throw Error(ErrorCode::invalid_argument, describe(key) + ": not a directory");
  }
  const std::vector<std::byte> record = read_object(key);
  std::string path = parent_path.empty() ? key.name : std::string(parent_path) + "/" + key.name;
  return read_directory_record(record, path, "directory " + quoted(path) + " (" +
                                                 range(key.seek, key.nbytes) + ")");
}

namespace {

struct NameCycle {
  std::string_view name;
  std::optional<unsigned> cycle;
};

NameCycle split_cycle(std::string_view part) {
  const auto semi = part.rfind(';');
  if (semi == std::string_view::npos) return {part, std::nullopt};
  unsigned cycle = 0;
  const std::string_view digits = part.substr(semi + 1);
  if (digits.empty()) return {part, std::nullopt};
  for (char c : digits) {
    if (c < '0' || c > '9') return {part, std::nullopt};
    cycle = cycle * 10 + static_cast<unsigned>(c - '0');
  }
  return {part.substr(0, semi), cycle};
}

const RootKey* pick(const std::vector<RootKey>& keys, NameCycle want) {
  const RootKey* best = nullptr;
  for (const RootKey& k : keys) {
    if (k.name != want.name) continue;
    if (want.cycle) {
      if (k.cycle == *want.cycle) return &k;
    } else if (!best || k.cycle > best->cycle) {
      best = &k;
    }
  }
  return best;
}

}  // namespace

std::optional<RootKey> RootFile::find(std::string_view path) const {
  RootDirectory dir = top_;
  std::set<std::uint64_t> seen{top_.seek_keys};
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    const RootKey* k = pick(dir.keys, split_cycle(path.substr(0, slash)));
    if (!k) return std::nullopt;
    if (slash == std::string_view::npos || slash + 1 == path.size()) return *k;
    if (!is_root_directory_class(k->class_name)) return std::nullopt;
    RootDirectory next = directory(*k, dir.path);
    if (!seen.insert(next.seek_keys).second) {
      corrupt(describe(*k) + ": directory " + quoted(next.path) +
              " loops back to a directory it lies in (keys list at file byte " +
              std::to_string(next.seek_keys) + ")");
    }
    dir = std::move(next);
    path.remove_prefix(slash + 1);
  }
}

std::vector<std::pair<std::string, RootKey>> RootFile::walk() const {
  std::vector<std::pair<std::string, RootKey>> out;
  std::set<std::uint64_t> seen{top_.seek_keys};
  // Depth first, without recursion: a damaged file cannot exhaust the stack.
  std::vector<RootDirectory> pending{top_};
  while (!pending.empty()) {
    RootDirectory dir = std::move(pending.back());
    pending.pop_back();
    std::vector<RootDirectory> below;
    for (const RootKey& k : dir.keys) {
      out.emplace_back(dir.path.empty() ? k.name : dir.path + "/" + k.name, k);
      if (!is_root_directory_class(k.class_name)) continue;
      RootDirectory sub = directory(k, dir.path);
      if (!seen.insert(sub.seek_keys).second) {
        corrupt(describe(k) + ": directory " + quoted(sub.path) +
                " loops back to a directory already read (keys list at file byte " +
                std::to_string(sub.seek_keys) + ")");
      }
      below.push_back(std::move(sub));
    }
    for (auto it = below.rbegin(); it != below.rend(); ++it) pending.push_back(std::move(*it));
  }
  return out;
}

}  // namespace decoflow
