// Fuzz target: an RNTuple read from its anchor on — the header, footer and
// page list envelopes (graphs/src/rntuple.cpp), every field's plan by name
// (graphs/src/rntuple_fields.cpp), every column's plan
// (RNTuple::column_spec) and every page decoded (graphs/src/rntuple_page.cpp).
//
// Input: the anchor's 7 little-endian uint64 (seek/nbytes/len of header and
// footer, max key size), then the file. Seeds are ROOT's own test RNTuples
// and the committed fixtures, their anchors found by make_corpus.cpp.
//
// Invariants: only decoflow::Error escapes; a page decodes inside its guarded
// slice (of its planned size) and nowhere else.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "decoflow/column_chunk.hpp"
#include "decoflow/rntuple.hpp"
#include "decoflow/rntuple_fields.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace decoflow;
  if (size < 56) return 0;
  std::uint64_t a[7];
  std::memcpy(a, data, sizeof a);
  const RNTupleAnchor anchor{a[0], a[1], a[2], a[3], a[4], a[5], a[6]};
  const auto* file_bytes = reinterpret_cast<const std::byte*>(data + 56);
  auto file = InputBuffer::from_bytes(std::vector<std::byte>(file_bytes, file_bytes + size - 56));
  std::unique_ptr<RNTuple> ntuple;
  try {
    ntuple = std::make_unique<RNTuple>(file, anchor, "fuzz");
  } catch (const Error&) {
    return 0;
  }
  // Every top-level field planned by name (rntuple_fields.hpp): its
  // subfields walked, however the schema nests or lies.
  for (const std::string& name : rntuple_top_fields(*ntuple)) {
    std::vector<RNTupleFieldColumn> columns;
    try {
      const RNTupleFieldNode node = plan_rntuple_field(*ntuple, name, columns);
      describe_type(node, columns);
    } catch (const Error&) {
    }
  }
  ScratchPool scratch;
  const std::size_t clusters = ntuple->clusters().size();
  for (std::uint32_t f = 0; f < ntuple->fields().size(); ++f) {
    const RNTupleField& field = ntuple->fields()[f];
    const std::size_t slots = field.representations ? field.columns.size() / field.representations : 0;
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
      RootBranchSpec spec;
      try {
        spec = ntuple->column_spec(f, slot, 0, clusters, "fuzz");
      } catch (const Error&) {
        continue;
      }
      const std::uint32_t width = root_type_width(spec.type);
      for (const RootBasketRef& page : spec.baskets) {
        const std::uint64_t elements = page.entry_end - page.entry_begin;
        if (elements > (1u << 16) || page.seek > file->size() || page.bytes > file->size() - page.seek) continue;
        ColumnChunk c;
        c.framing = page.framing;
        apply_page_coding(c, page.page);
        c.value_type = spec.type;
        c.width = width;
        c.entries = elements;
        c.content_bytes = elements * width;
        fuzz::GuardedSpan out(static_cast<std::size_t>(c.content_bytes));
        try {
          decode_column_chunk(c, file->bytes().subspan(static_cast<std::size_t>(page.seek),
                                                       static_cast<std::size_t>(page.bytes)),
                              {out.data(), static_cast<std::size_t>(c.content_bytes)}, {},
                              thread_decoder(), scratch);
        } catch (const Error&) {
        }
        DECOFLOW_FUZZ_CHECK(out.guards_intact(), "a page of %llu elements wrote outside its slice",
                            static_cast<unsigned long long>(elements));
      }
    }
  }
  return 0;
}
