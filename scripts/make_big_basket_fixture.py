#!/usr/bin/env python3
"""Write tests/fixtures/root/big-baskets-zstd.root: ROOT-written TTree
branches whose one basket decodes to more than 16 MiB, so that ROOT splits
its compressed payload into several blocks (a block holds at most 16 MiB - 1)
— for the layouts whose baskets carry an entry-offsets trailer:
``std::vector<float>``, ``std::vector<std::vector<float>>`` and
``std::vector<std::string>``. The values repeat (a few distinct numbers and
words), so the file is small though the baskets are not.

Run with ROOT's own Python (``pip install root`` in a venv of its own; never
the project's .venv: ROOT bundles its own libtbb and installs signal
handlers):

    /work/root-venv/bin/python scripts/make_big_basket_fixture.py tests/fixtures/root

tests/python/test_root_coverage.py walks the file with the others (every
branch equal to uproot's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ENTRIES = 50_000  # each branch's one basket: 17-22 MiB decoded

WRITER = r"""
#include <string>
#include <vector>
#include "TFile.h"
#include "TTree.h"
namespace big_baskets {
inline void write(const char* path, long entries) {
  TFile f(path, "RECREATE", "", 505);  // zstd, level 5 (ROOT's default setting)
  TTree t("big", "one basket over 16 MiB per branch");
  t.SetAutoFlush(0);
  std::vector<float> vec;
  std::vector<std::vector<float>> nested;
  std::vector<std::string> words;
  t.Branch("vec_float", &vec);
  t.Branch("vecvec_float", &nested);
  t.Branch("vec_string", &words);
  t.SetBasketSize("*", 64 * 1024 * 1024);  // one basket holds every entry
  const char* pool[] = {"", "mu", "jet", "HLT_IsoMu24", "photon_loose"};
  const std::string long_word(300, 'w');  // the 255 + 4-byte length form
  for (long i = 0; i < entries; ++i) {
    vec.clear();
    for (long k = 0; k < i % 7 * 30; ++k) vec.push_back(float((i + k) % 13) * 0.25f);
    nested.assign(static_cast<std::size_t>(i % 8), {});
    for (long j = 0; j < i % 8; ++j) {
      for (long k = 0; k < (i + j) % 5 * 15; ++k) nested[j].push_back(float((i + j + k) % 11) * 0.5f);
    }
    words.clear();
    for (long k = 0; k < i % 4 * 40; ++k) words.push_back(pool[(i + k) % 5]);
    if (i % 10000 == 7) words.push_back(long_word);
    t.Fill();
  }
  t.Write();
}
}  // namespace big_baskets
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir", type=Path)
    args = p.parse_args()
    import ROOT

    ROOT.gROOT.SetBatch(True)
    assert ROOT.gInterpreter.Declare(WRITER)
    path = args.outdir / "big-baskets-zstd.root"
    ROOT.big_baskets.write(str(path), ENTRIES)
    print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
