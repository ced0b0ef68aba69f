#!/usr/bin/env python3
"""Write the ROOT-written RNTuple fixtures of tests/fixtures/rntuple/ (issue 12).

Run with ROOT's own Python (``pip install root`` in a venv of its own, never
the project's .venv: ROOT bundles its own libtbb and installs signal
handlers)::

    /work/root-venv/bin/python scripts/make_rntuple_fixtures.py tests/fixtures/rntuple

tests/python/test_root_rntuple.py reads every RNTuple of every file here and
compares each field with uproot's RNTuple reader.

Files (the same fields and values in each; seeded, so reruns give the same
values):

  rntuple-{zstd,lz4,zlib,lzma,uncompressed}.root
      ROOT's default write options (split encodings: SplitReal32, SplitInt32
      zigzag, SplitIndex64 delta, ...; page checksums on) but for the codec,
      small pages (several per column per cluster) and a cluster committed
      every 300 entries, a cluster group every 2 clusters:
      every primitive type, bool (Bit), std::vector<float> (a fifth empty),
      std::vector<std::vector<std::int32_t>>, ROOT::RVec<std::int16_t>,
      std::string, std::array<double, 3>, and floats stored as Real16,
      Real32Trunc (20 bits), Real32Quant ([-10, 10], 16 bits) and a double as
      SplitReal32 (Double32_t's representation).
  rntuple-optionals.root
      default options, 200 entries in 3 clusters: std::optional<std::int32_t>,
      std::unique_ptr<float>, std::vector<bool>, char, std::variant<std::int32_t,
      float>, std::vector<std::optional<double>>.
  rntuple-big-pages.root
      5,000,000 entries of a repeating int32 and double in one cluster, pages
      up to 64 MiB (ROOT's default is 1 MiB): pages over 16 MiB, compressed
      in several ROOT blocks (each block holds at most 16 MiB).
  rntuple-nanoaod.root
      a NanoAOD-like TTree (nJet, Jet_pt[nJet], Jet_eta[nJet], MET_pt)
      converted with ROOT's RNTupleImporter: a ``_collection0`` of records
      plus projected fields (``Jet_pt`` as RVec<float> over the collection's
      columns, ``nJet`` as ROOT::RNTupleCardinality).
"""

from __future__ import annotations

import os
import sys

WRITER = r"""
#include <ROOT/RNTupleModel.hxx>
#include <ROOT/RNTupleWriter.hxx>
#include <ROOT/RNTupleWriteOptions.hxx>
#include <ROOT/RField.hxx>
#include <ROOT/RVec.hxx>
#include <TRandom3.h>
#include <TFile.h>
#include <TTree.h>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

void decoflow_write_rntuple(const char* path, int compression, int entries) {
  auto model = ROOT::RNTupleModel::Create();
  auto i8 = model->MakeField<std::int8_t>("i8");
  auto u8 = model->MakeField<std::uint8_t>("u8");
  auto i16 = model->MakeField<std::int16_t>("i16");
  auto u16 = model->MakeField<std::uint16_t>("u16");
  auto i32 = model->MakeField<std::int32_t>("i32");
  auto u32 = model->MakeField<std::uint32_t>("u32");
  auto i64 = model->MakeField<std::int64_t>("i64");
  auto u64 = model->MakeField<std::uint64_t>("u64");
  auto f32 = model->MakeField<float>("f32");
  auto f64 = model->MakeField<double>("f64");
  auto flag = model->MakeField<bool>("flag");
  auto vf = model->MakeField<std::vector<float>>("vf");
  auto vvi = model->MakeField<std::vector<std::vector<std::int32_t>>>("vvi");
  auto rv = model->MakeField<ROOT::RVec<std::int16_t>>("rv");
  auto str = model->MakeField<std::string>("str");
  auto arr = model->MakeField<std::array<double, 3>>("arr");
  {
    auto half = std::make_unique<ROOT::RField<float>>("half");
    half->SetHalfPrecision();
    model->AddField(std::move(half));
    auto trunc = std::make_unique<ROOT::RField<float>>("trunc");
    trunc->SetTruncated(20);
    model->AddField(std::move(trunc));
    auto quant = std::make_unique<ROOT::RField<float>>("quant");
    quant->SetQuantized(16, {-10., 10.});
    model->AddField(std::move(quant));
    auto d32 = std::make_unique<ROOT::RField<double>>("d32");
    d32->SetColumnRepresentatives({{ROOT::ENTupleColumnType::kSplitReal32}});
    model->AddField(std::move(d32));
  }
  auto& entry = model->GetDefaultEntry();
  auto half = entry.GetPtr<float>("half");
  auto trunc = entry.GetPtr<float>("trunc");
  auto quant = entry.GetPtr<float>("quant");
  auto d32 = entry.GetPtr<double>("d32");

  ROOT::RNTupleWriteOptions options;
  options.SetCompression(compression);
  options.SetMaxUnzippedPageSize(2048);
  options.SetInitialUnzippedPageSize(256);
  auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "ntuple", path, options);
  TRandom3 rng(12);
  for (int e = 0; e < entries; ++e) {
    *i8 = static_cast<std::int8_t>(e % 251 - 125);
    *u8 = static_cast<std::uint8_t>(e % 256);
    *i16 = static_cast<std::int16_t>(e * 7 - 20000);
    *u16 = static_cast<std::uint16_t>(e * 13);
    *i32 = e % 3 == 0 ? -e * 1000 : e * 77;
    *u32 = static_cast<std::uint32_t>(e) * 2654435761u;
    *i64 = (e % 2 ? -1 : 1) * static_cast<std::int64_t>(e) * 1000000007LL;
    *u64 = static_cast<std::uint64_t>(e) * 11400714819323198485ull;
    *f32 = static_cast<float>(rng.Gaus(0, 10));
    *f64 = rng.Uniform(-1e6, 1e6);
    *flag = rng.Rndm() < 0.3;
    const int n = rng.Rndm() < 0.2 ? 0 : static_cast<int>(rng.Integer(6));
    vf->clear();
    for (int k = 0; k < n; ++k) vf->push_back(static_cast<float>(rng.Gaus(e, 1)));
    vvi->clear();
    for (int k = 0; k < n % 3; ++k) {
      vvi->emplace_back();
      for (int j = 0; j < k + e % 2; ++j) vvi->back().push_back(e * 10 + j);
    }
    rv->clear();
    for (int k = 0; k < (e % 4); ++k) rv->push_back(static_cast<std::int16_t>(e - k));
    *str = e % 5 == 0 ? std::string() : "entry " + std::to_string(e) + std::string(e % 7, 'x');
    *arr = {e * 0.5, -e * 0.25, rng.Rndm()};
    *half = static_cast<float>(rng.Gaus(0, 100));
    *trunc = static_cast<float>(rng.Gaus(0, 100));
    *quant = static_cast<float>(rng.Uniform(-10, 10));
    *d32 = rng.Gaus(0, 1e3);
    writer->Fill();
    if (e % 300 == 299) writer->CommitCluster(/*commitClusterGroup=*/(e / 300) % 2 == 1);
  }
}

void decoflow_write_optionals(const char* path, int entries) {
  auto model = ROOT::RNTupleModel::Create();
  auto opt = model->MakeField<std::optional<std::int32_t>>("opt");
  auto ptr = model->MakeField<std::unique_ptr<float>>("ptr");
  auto vbool = model->MakeField<std::vector<bool>>("vbool");
  auto ch = model->MakeField<char>("ch");
  auto var = model->MakeField<std::variant<std::int32_t, float>>("var");
  auto vopt = model->MakeField<std::vector<std::optional<double>>>("vopt");
  auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "ntuple", path);
  for (int e = 0; e < entries; ++e) {
    if (e % 3) *opt = e; else opt->reset();
    if (e % 4) *ptr = std::make_unique<float>(e * 0.5f); else ptr->reset();
    vbool->clear();
    for (int k = 0; k < e % 5; ++k) vbool->push_back((e + k) % 2);
    *ch = static_cast<char>('a' + e % 26);
    if (e % 2) *var = e; else *var = e * 0.25f;
    vopt->clear();
    for (int k = 0; k < e % 3; ++k) {
      if (k % 2) vopt->push_back(std::nullopt); else vopt->push_back(e + k * 0.5);
    }
    writer->Fill();
    if (e % 70 == 69) writer->CommitCluster();
  }
}

void decoflow_write_big_pages(const char* path, int entries) {
  auto model = ROOT::RNTupleModel::Create();
  auto n = model->MakeField<std::int32_t>("n");
  auto x = model->MakeField<double>("x");
  ROOT::RNTupleWriteOptions options;
  options.SetMaxUnzippedPageSize(64 << 20);
  options.SetApproxZippedClusterSize(512 << 20);
  options.SetMaxUnzippedClusterSize(1024 << 20);
  auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "ntuple", path, options);
  for (int e = 0; e < entries; ++e) {
    *n = e % 1000;
    *x = (e % 4096) * 0.25;
    writer->Fill();
  }
}

void decoflow_write_nanoaod_tree(const char* path, int entries) {
  TFile f(path, "RECREATE");
  TTree t("Events", "NanoAOD-like");
  int nJet = 0;
  float Jet_pt[16], Jet_eta[16], MET_pt = 0;
  t.Branch("nJet", &nJet, "nJet/I");
  t.Branch("Jet_pt", Jet_pt, "Jet_pt[nJet]/F");
  t.Branch("Jet_eta", Jet_eta, "Jet_eta[nJet]/F");
  t.Branch("MET_pt", &MET_pt, "MET_pt/F");
  TRandom3 rng(7);
  for (int e = 0; e < entries; ++e) {
    nJet = static_cast<int>(rng.Integer(7));
    for (int k = 0; k < nJet; ++k) {
      Jet_pt[k] = static_cast<float>(rng.Exp(40));
      Jet_eta[k] = static_cast<float>(rng.Gaus(0, 2));
    }
    MET_pt = static_cast<float>(rng.Exp(30));
    t.Fill();
  }
  t.Write();
}
"""

CODECS = {"zstd": 505, "lz4": 404, "zlib": 101, "lzma": 207, "uncompressed": 0}


def main(outdir: str) -> None:
    import ROOT

    os.makedirs(outdir, exist_ok=True)
    ROOT.gInterpreter.Declare(WRITER)
    for name, setting in CODECS.items():
        ROOT.decoflow_write_rntuple(os.path.join(outdir, f"rntuple-{name}.root"), setting, 1500)
    ROOT.decoflow_write_optionals(os.path.join(outdir, "rntuple-optionals.root"), 200)
    ROOT.decoflow_write_big_pages(os.path.join(outdir, "rntuple-big-pages.root"), 5_000_000)
    tree = os.path.join(outdir, "nanoaod-tree.tmp.root")
    ROOT.decoflow_write_nanoaod_tree(tree, 1000)
    out = os.path.join(outdir, "rntuple-nanoaod.root")
    if os.path.exists(out):
        os.remove(out)
    importer = ROOT.Experimental.RNTupleImporter.Create(tree, "Events", out)
    importer.SetIsQuiet(True)
    importer.Import()
    os.remove(tree)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
