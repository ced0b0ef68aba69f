#!/usr/bin/env python3
"""Write the ROOT-written TTree fixtures of tests/fixtures/root/ (issue 11).

Two commands, run by two different Pythons:

  write OUTDIR      with ROOT's own Python (``pip install root`` in a venv of
                    its own, never the project's .venv; ROOT bundles its own
                    libtbb and installs signal handlers):
                        /work/root-venv/bin/python scripts/make_root_fixtures.py write tests/fixtures/root
  describe OUTDIR   with the project's .venv (uproot): rewrites the part of
                    OUTDIR/README.md between the ``<!-- branches -->`` markers,
                    one row per tree and branch of every file: ROOT's type, uproot's
                    interpretation, baskets (free / embedded), and whether uproot reads it.

Every file holds the same trees and values (seeded NumPy generators); only the
compression differs: ``coverage-{zstd,lz4,zlib,lzma,uncompressed}.root``.
Basket sizes are set explicitly (``SetBasketSize``) and auto-flush is off
(``SetAutoFlush(0)``: no ``OptimizeBaskets``), so every branch has several
small baskets; about a fifth of the vector / jagged / string entries are empty.

Trees (see README.md for every branch):

  vectors             std::vector<T> for every primitive T, vector<vector<float>>,
                      vector<string>, std::string, TString (long strings too: the
                      255 + 4-byte length form)
  floats              Double32_t / Float16_t: with a range and bit count, with a
                      range only, with nbits only (truncated mantissa), without
                      (float on disk); flat, fixed-size [3], jagged [n]; leaf
                      lists; a jagged fixed-size float rows[n][3]; flat references
  objects             a split class declared to cling (members: numbers,
                      Double32_t with a range, std::vector, std::string, a
                      ``float* //[n]`` array), std::vector of that class, a
                      TLorentzVector (split: uproot's AsStridedObjects; unsplit:
                      AsObjects) and a TClonesArray of TLorentzVector
  embedded_tail       saved with TDirectory::WriteTObject, not TTree::Write: the
                      last basket of each branch stays inside the TBranch record
  sub/embedded_only   in a subdirectory: fewer entries than one basket, every
                      basket embedded
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

CODECS = ["zstd", "lz4", "zlib", "lzma", "uncompressed"]
LEVELS = {"zstd": 5, "lz4": 4, "zlib": 6, "lzma": 6}
BASKET = 500       # bytes (ROOT raises it to ~1,100 for branches with entry offsets)
N_VECTORS = 300
N_FLOATS = 500
N_OBJECTS = 160
N_TAIL = 300
N_EMBEDDED_ONLY = 25

# Helpers compiled by cling: filling a std::vector from a NumPy buffer in one
# call (a Python loop of push_back per value is slow).
CPP = r"""
#include <cstdint>
#include <string>
#include <vector>
namespace fixtures {
template <class T> void fill(std::vector<T>& v, std::uintptr_t data, std::size_t n) {
  const T* p = reinterpret_cast<const T*>(data);
  v.assign(p, p + n);
}
inline void fill_bool(std::vector<bool>& v, std::uintptr_t data, std::size_t n) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
  v.clear();
  for (std::size_t i = 0; i < n; ++i) v.push_back(p[i] != 0);
}
inline void fill_nested(std::vector<std::vector<float>>& v, std::uintptr_t counts, std::size_t n,
                        std::uintptr_t data) {
  const int* c = reinterpret_cast<const int*>(counts);
  const float* p = reinterpret_cast<const float*>(data);
  v.assign(n, {});
  for (std::size_t i = 0; i < n; ++i) { v[i].assign(p, p + c[i]); p += c[i]; }
}
}  // namespace fixtures

"""

# The split class. Its dictionary is compiled (ACLiC, GenerateDictionary): a
# class known to cling only is written, but std::vector<Track> then goes
# through an emulated collection whose layout is not the real vector's (ROOT
# aborted in TBufferFile::WriteFastArray). rootcling reads the member comments:
# ranges of Double32_t / Float16_t, and the count of the float* array. The
# setter exists because cppyy cannot assign a float* member from Python.
TRACK_H = r"""#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "Rtypes.h"
struct Track {
  Float_t pt;
  Int_t charge;
  Double32_t eta;      //[-5,5,16]
  Float16_t phi;       //[-3.2,3.2,10]
  Double32_t mass;     // no range: a float on disk
  Double_t pos[3];
  std::vector<float> hits;
  std::vector<int> ids;
  std::string label;
  Int_t n;
  Float_t* w;          //[n]
  Track() : pt(0), charge(0), eta(0), phi(0), mass(0), pos{0, 0, 0}, n(0), w(nullptr) {}
  Track(const Track& o)
      : pt(o.pt), charge(o.charge), eta(o.eta), phi(o.phi), mass(o.mass),
        pos{o.pos[0], o.pos[1], o.pos[2]}, hits(o.hits), ids(o.ids), label(o.label), n(o.n),
        w(o.n ? new Float_t[o.n] : nullptr) {
    for (Int_t i = 0; i < n; ++i) w[i] = o.w[i];
  }
  Track& operator=(const Track& o) {
    if (this != &o) { Track copy(o); swap(copy); }
    return *this;
  }
  ~Track() { delete[] w; }
  void swap(Track& o) {
    std::swap(pt, o.pt); std::swap(charge, o.charge); std::swap(eta, o.eta);
    std::swap(phi, o.phi); std::swap(mass, o.mass);
    for (int i = 0; i < 3; ++i) std::swap(pos[i], o.pos[i]);
    hits.swap(o.hits); ids.swap(o.ids); label.swap(o.label);
    std::swap(n, o.n); std::swap(w, o.w);
  }
  void set_w(Int_t count, std::uintptr_t data) {
    delete[] w;
    n = count;
    w = count ? new Float_t[count] : nullptr;
    const float* p = reinterpret_cast<const float*>(data);
    for (Int_t i = 0; i < count; ++i) w[i] = p[i];
  }
};
"""

# A top-level split Track branch made in C++: PyROOT's Branch(name, obj,
# bufsize, split) with the compiled Track wrote garbage counts (ROOT aborted);
# TTree::Branch(name, Track**, ...) as C++ code writes it is fine.
BRANCH_TRACK = r"""
#include <memory>
#include "TTree.h"
namespace fixtures {
inline Track* branch_track(TTree* t, const char* name, int bufsize, int split) {
  static std::vector<std::unique_ptr<Track*>> held;  // the branch keeps &pointer
  held.push_back(std::make_unique<Track*>(new Track()));
  t->Branch(name, held.back().get(), bufsize, split);
  return *held.back();
}
}  // namespace fixtures
"""

# (branch name, C++ element type, NumPy dtype of the values)
VECTOR_TYPES = [
    ("vec_bool", "bool", np.bool_),
    ("vec_int8", "char", np.int8),
    ("vec_uint8", "unsigned char", np.uint8),
    ("vec_int16", "short", np.int16),
    ("vec_uint16", "unsigned short", np.uint16),
    ("vec_int32", "int", np.int32),
    ("vec_uint32", "unsigned int", np.uint32),
    ("vec_int64", "Long64_t", np.int64),
    ("vec_uint64", "ULong64_t", np.uint64),
    ("vec_float", "float", np.float32),
    ("vec_double", "double", np.float64),
]

WORDS = ["", "mu", "e", "jet", "HLT_IsoMu24", "tau_h", "photon_loose", "\u00e9t\u00e9",
         "b-tag", "MET", "x" * 40]


def addr(a: np.ndarray) -> int:
    """The address of a contiguous array's data, for the helpers' uintptr_t
    parameters (the caller keeps the array alive during the call)."""
    assert a.flags.c_contiguous
    return a.ctypes.data


def counts(rng: np.random.Generator, n: int, most: int) -> np.ndarray:
    """Per-entry lengths 0..most, about a fifth of them 0."""
    c = rng.integers(1, most + 1, size=n)
    c[rng.random(n) < 0.2] = 0
    return c.astype(np.int32)


def values(rng: np.random.Generator, dtype, n: int) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(n) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        # The extremes and zero now and then, the rest spread over the range.
        v = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
        pick = rng.random(n)
        v[pick < 0.05] = info.min
        v[(pick >= 0.05) & (pick < 0.1)] = info.max
        v[(pick >= 0.1) & (pick < 0.15)] = 0
        return v
    v = rng.normal(0, 50, size=n).astype(dt)
    pick = rng.random(n)
    v[pick < 0.02] = np.nan
    v[(pick >= 0.02) & (pick < 0.03)] = np.inf
    v[(pick >= 0.03) & (pick < 0.04)] = -0.0
    return v


def text(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.2:
        return ""
    if r < 0.25:
        return "L" * int(rng.integers(255, 600))  # 255 + 4-byte length form
    return str(WORDS[int(rng.integers(0, len(WORDS)))]) + str(int(rng.integers(0, 1000)))


# ------------------------------------------------------------------ writing (ROOT)


def make_tree(ROOT, name: str, title: str):
    t = ROOT.TTree(name, title)
    t.SetAutoFlush(0)       # no cluster-driven flushes, hence no OptimizeBaskets
    t.SetAutoSave(0)
    return t


def finish_baskets(t) -> None:
    t.SetBasketSize("*", BASKET)


def write_vectors(ROOT, n: int, name: str = "vectors", seed: int = 11):
    rng = np.random.default_rng(seed)
    t = make_tree(ROOT, name, "std::vector of every primitive, nested vectors, strings")
    vecs = {}
    for branch, cpp, _ in VECTOR_TYPES:
        vecs[branch] = ROOT.std.vector(cpp)()
        t.Branch(branch, vecs[branch])
    nested = ROOT.std.vector(ROOT.std.vector("float"))()
    t.Branch("vecvec_float", nested)
    vstr = ROOT.std.vector("std::string")()
    t.Branch("vec_string", vstr)
    s = ROOT.std.string()
    t.Branch("str", s)
    ts = ROOT.TString()
    t.Branch("tstr", ts)
    finish_baskets(t)
    fill = ROOT.fixtures.fill
    for _ in range(n):
        for branch, cpp, dtype in VECTOR_TYPES:
            c = int(counts(rng, 1, 6)[0])
            v = values(rng, dtype, c)
            if dtype is np.bool_:
                ROOT.fixtures.fill_bool(vecs[branch], addr(v.astype(np.uint8)), c)
            else:
                fill[cpp](vecs[branch], addr(v), c)
        inner = counts(rng, int(counts(rng, 1, 4)[0]), 4)
        flat = values(rng, np.float32, int(inner.sum()))
        ROOT.fixtures.fill_nested(nested, addr(inner), len(inner), addr(flat))
        vstr.clear()
        for _ in range(int(counts(rng, 1, 4)[0])):
            vstr.push_back(text(rng))
        s.assign(text(rng))
        ts.Resize(0)
        ts.Append(text(rng))
        t.Fill()
    return t, (vecs, nested, vstr, s, ts)


def write_floats(ROOT, n: int, seed: int = 12):
    rng = np.random.default_rng(seed)
    t = make_tree(ROOT, "floats", "Double32_t, Float16_t, leaf lists, rows[n][3]")
    keep = []

    def leaf(name: str, spec: str, dtype, shape=1):
        buf = np.zeros(shape, dtype)
        t.Branch(name, buf, spec)
        keep.append(buf)
        return buf

    most = 5
    cnt = leaf("n", "n/I", np.int32)
    flat = {
        # Double32_t (leaf type d): range + nbits, range only (32 bits),
        # nbits only ([0,0,nbits]: truncated mantissa), nothing (float on disk)
        "d32_range": (leaf("d32_range", "d32_range/d[0,100,12]", np.float64), (-5, 110)),
        "d32_sym": (leaf("d32_sym", "d32_sym/d[-1,1]", np.float64), (-1, 1)),
        "d32_mant": (leaf("d32_mant", "d32_mant/d[0,0,14]", np.float64), (-1e3, 1e3)),
        "d32_plain": (leaf("d32_plain", "d32_plain/d", np.float64), (-1e3, 1e3)),
        # Float16_t (leaf type f; a float in memory)
        "f16_range": (leaf("f16_range", "f16_range/f[0,10,8]", np.float32), (-1, 11)),
        "f16_mant": (leaf("f16_mant", "f16_mant/f[0,0,10]", np.float32), (-1e3, 1e3)),
        "f16_plain": (leaf("f16_plain", "f16_plain/f", np.float32), (-1e3, 1e3)),
        # plain references
        "flat_f": (leaf("flat_f", "flat_f/F", np.float32), (-1e3, 1e3)),
        "flat_d": (leaf("flat_d", "flat_d/D", np.float64), (-1e3, 1e3)),
    }
    fixed = {
        "d32_fixed": (leaf("d32_fixed", "d32_fixed[3]/d[0,100,12]", np.float64, 3), (0, 100)),
        "d32_fixed_plain": (leaf("d32_fixed_plain", "d32_fixed_plain[3]/d", np.float64, 3),
                            (-1e3, 1e3)),
        "f16_fixed": (leaf("f16_fixed", "f16_fixed[3]/f[-5,5,10]", np.float32, 3), (-5, 5)),
        "arr_f": (leaf("arr_f", "arr_f[3]/F", np.float32, 3), (-1e3, 1e3)),
    }
    jagged = {
        "d32_jag": (leaf("d32_jag", "d32_jag[n]/d[0,100,12]", np.float64, most), (0, 100)),
        "d32_jag_plain": (leaf("d32_jag_plain", "d32_jag_plain[n]/d", np.float64, most),
                          (-1e3, 1e3)),
        "f16_jag": (leaf("f16_jag", "f16_jag[n]/f[0,10,8]", np.float32, most), (0, 10)),
        "jag_f": (leaf("jag_f", "jag_f[n]/F", np.float32, most), (-1e3, 1e3)),
    }
    rows = leaf("rows", "rows[n][3]/F", np.float32, most * 3)
    # Leaf lists: one branch, several leaves packed back to back, in the
    # order given (natural alignment kept so the C layout has no padding).
    ll = np.zeros(1, np.dtype([("x", "<f4"), ("y", "<i4"), ("z", "<f8")]))
    t.Branch("ll", ll, "x/F:y/I:z/D")
    ll2 = np.zeros(1, np.dtype([("c", "<i8"), ("d", "<f8"), ("b", "<i2"), ("s", "<u2"),
                                ("a", "i1"), ("o", "u1")]))
    t.Branch("ll_mixed", ll2, "c/L:d/D:b/S:s/s:a/B:o/O")
    ll3 = np.zeros(1, np.dtype([("pos", "<f4", (3,)), ("id", "<i4")]))
    t.Branch("ll_arr", ll3, "pos[3]/F:id/I")
    keep += [ll, ll2, ll3]
    finish_baskets(t)
    for _ in range(n):
        c = int(counts(rng, 1, most)[0])
        cnt[0] = c
        for buf, (lo, hi) in flat.values():
            buf[0] = rng.uniform(lo, hi)
        for buf, (lo, hi) in fixed.values():
            buf[:] = rng.uniform(lo, hi, size=3)
        for buf, (lo, hi) in jagged.values():
            buf[:c] = rng.uniform(lo, hi, size=c)
        rows[: c * 3] = rng.normal(0, 10, size=c * 3)
        ll["x"], ll["y"], ll["z"] = rng.normal(), rng.integers(-1000, 1000), rng.normal()
        ll2["c"], ll2["d"] = rng.integers(-(2**62), 2**62), rng.normal()
        ll2["b"], ll2["s"] = rng.integers(-30000, 30000), rng.integers(0, 65535)
        ll2["a"], ll2["o"] = rng.integers(-128, 127), rng.integers(0, 2)
        ll3["pos"], ll3["id"] = rng.normal(size=3), rng.integers(0, 100)
        t.Fill()
    return t, keep


def set_track(ROOT, tr, rng: np.random.Generator) -> None:
    tr.pt = float(rng.exponential(30))
    tr.charge = int(rng.choice([-1, 1]))
    tr.eta = float(rng.uniform(-5.5, 5.5))
    tr.phi = float(rng.uniform(-3.2, 3.2))
    tr.mass = float(rng.normal(0.1, 0.01))
    for k in range(3):
        tr.pos[k] = float(rng.normal())
    h = values(rng, np.float32, int(counts(rng, 1, 4)[0]))
    ROOT.fixtures.fill["float"](tr.hits, addr(h), len(h))
    i = values(rng, np.int32, int(counts(rng, 1, 3)[0]))
    ROOT.fixtures.fill["int"](tr.ids, addr(i), len(i))
    tr.label = text(rng)
    w = rng.normal(size=int(counts(rng, 1, 3)[0])).astype(np.float32)
    tr.set_w(len(w), addr(w))


def write_objects(ROOT, n: int, seed: int = 13):
    rng = np.random.default_rng(seed)
    t = make_tree(ROOT, "objects", "a split class, std::vector of it, TLorentzVector, TClonesArray")
    tr = ROOT.fixtures.branch_track(t, "track", BASKET, 99)
    tracks = ROOT.std.vector("Track")()
    t.Branch("tracks", tracks, BASKET, 99)
    p4 = ROOT.TLorentzVector()
    t.Branch("p4", p4, BASKET, 99)        # custom streamer: stays one branch (strided)
    p4u = ROOT.TLorentzVector()
    t.Branch("p4_unsplit", p4u, BASKET, 0)
    tca = ROOT.TClonesArray("TLorentzVector", 8)
    t.Branch("tca", tca, BASKET, 99)
    finish_baskets(t)
    one = ROOT.Track()
    for _ in range(n):
        set_track(ROOT, tr, rng)
        tracks.clear()
        for _ in range(int(counts(rng, 1, 3)[0])):
            set_track(ROOT, one, rng)
            tracks.push_back(one)
        p4.SetPxPyPzE(*(float(x) for x in rng.normal(0, 20, size=4)))
        p4u.SetPxPyPzE(*(float(x) for x in rng.normal(0, 20, size=4)))
        tca.Clear()
        for k in range(int(counts(rng, 1, 4)[0])):
            tca.ConstructedAt(k).SetPxPyPzE(*(float(x) for x in rng.normal(0, 20, size=4)))
        t.Fill()
    return t, (tr, tracks, p4, p4u, tca, one)


def write_small(ROOT, name: str, n: int, seed: int):
    """A few layouts for the embedded-basket trees."""
    rng = np.random.default_rng(seed)
    t = make_tree(ROOT, name, "saved with WriteTObject: baskets left in the TBranch records")
    cnt = np.zeros(1, np.int32)
    t.Branch("n", cnt, "n/I")
    f = np.zeros(1, np.float32)
    t.Branch("flat_f", f, "flat_f/F")
    i64 = np.zeros(1, np.int64)
    t.Branch("flat_l", i64, "flat_l/L")
    jag = np.zeros(6, np.float32)
    t.Branch("jag_f", jag, "jag_f[n]/F")
    d32 = np.zeros(1, np.float64)
    t.Branch("d32_range", d32, "d32_range/d[0,100,12]")
    vec = ROOT.std.vector("float")()
    t.Branch("vec_float", vec)
    s = ROOT.std.string()
    t.Branch("str", s)
    finish_baskets(t)
    for _ in range(n):
        c = int(counts(rng, 1, 6)[0])
        cnt[0] = c
        f[0] = rng.normal()
        i64[0] = rng.integers(-(2**62), 2**62)
        jag[:c] = rng.normal(size=c)
        d32[0] = rng.uniform(0, 100)
        v = values(rng, np.float32, int(counts(rng, 1, 6)[0]))
        ROOT.fixtures.fill["float"](vec, addr(v), len(v))
        s.assign(text(rng))
        t.Fill()
    return t, (cnt, f, i64, jag, d32, vec, s)


def write_file(ROOT, path: Path, codec: str) -> None:
    if codec == "uncompressed":
        settings = 0
    else:
        alg = {"zstd": ROOT.RCompressionSetting.EAlgorithm.kZSTD,
               "lz4": ROOT.RCompressionSetting.EAlgorithm.kLZ4,
               "zlib": ROOT.RCompressionSetting.EAlgorithm.kZLIB,
               "lzma": ROOT.RCompressionSetting.EAlgorithm.kLZMA}[codec]
        settings = ROOT.CompressionSettings(alg, LEVELS[codec])
    f = ROOT.TFile(str(path), "RECREATE", f"decoflow issue-11 fixture, {codec}", settings)
    keep = []
    for writer, count in ((write_vectors, N_VECTORS), (write_floats, N_FLOATS),
                          (write_objects, N_OBJECTS)):
        f.cd()
        t, held = writer(ROOT, count)
        t.Write()                  # TTree::Write flushes every basket first: none embedded
        keep.append((t, held))
    # TDirectory::WriteTObject streams the TTree as it is, without
    # TTree::Write's FlushBaskets: each branch's current (last, unflushed)
    # basket is written inside its TBranch record.
    f.cd()
    t, held = write_small(ROOT, "embedded_tail", N_TAIL, seed=14)
    f.WriteTObject(t)
    keep.append((t, held))
    sub = f.mkdir("sub", "a subdirectory")
    sub.cd()
    t, held = write_small(ROOT, "embedded_only", N_EMBEDDED_ONLY, seed=15)
    sub.WriteTObject(t)
    keep.append((t, held))
    f.Close()


def write(outdir: Path) -> None:
    import ROOT  # noqa: N811  (ROOT's own Python; see the module docstring)

    ROOT.gROOT.SetBatch(True)
    ROOT.gInterpreter.Declare(CPP)
    outdir = outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # ACLiC writes its library next to the header
        header = Path(tmp) / "fixture_track.h"
        header.write_text(TRACK_H)
        here = os.getcwd()
        os.chdir(tmp)
        try:
            if ROOT.gInterpreter.GenerateDictionary("Track;vector<Track>", str(header)) == 0:
                raise RuntimeError("ACLiC could not build the dictionary of Track")
        finally:
            os.chdir(here)
        ROOT.gInterpreter.Declare(BRANCH_TRACK)
        write_all(ROOT, outdir)


def write_all(ROOT, outdir: Path) -> None:
    for codec in CODECS:
        path = outdir / f"coverage-{codec}.root"
        write_file(ROOT, path, codec)
        print(f"{path}: {path.stat().st_size} bytes")
    dump_reference(ROOT, outdir / "coverage-zstd.root", outdir / REFERENCE)


# Branches whose values uproot gets wrong or cannot read (uproot 5.7.7): the
# Double32_t / Float16_t arrays whose range is given in the leaf title
# (``x[3]/d[0,100,12]``, ``x[n]/f[0,10,8]``). uproot reads the Double32 ones
# as plain floats (tiny denormals, ~0) and raises UnboundLocalError on the
# Float16 ones. ROOT's own values (TLeaf::GetValue, as doubles) go in
# REFERENCE; every codec's file holds the same values.
REFERENCE = "root-reference.npz"
REFERENCE_BRANCHES = [("floats", "d32_fixed"), ("floats", "f16_fixed"),
                      ("floats", "d32_jag"), ("floats", "f16_jag")]


def dump_reference(ROOT, path: Path, out: Path) -> None:
    f = ROOT.TFile.Open(str(path))
    arrays = {}
    for tree_name, branch in REFERENCE_BRANCHES:
        t = f.Get(tree_name)
        leaf = t.GetLeaf(branch)
        counts_, content = [], []
        for i in range(t.GetEntries()):
            t.GetEntry(i)
            k = leaf.GetLen()
            counts_.append(k)
            content.extend(leaf.GetValue(j) for j in range(k))
        arrays[f"{tree_name}/{branch}/counts"] = np.array(counts_, np.int64)
        arrays[f"{tree_name}/{branch}/content"] = np.array(content, np.float64)
    f.Close()
    np.savez_compressed(out, **arrays)
    print(f"{out}: {', '.join(f'{t}/{b}' for t, b in REFERENCE_BRANCHES)}")


# ------------------------------------------------------------------ describing (uproot)


def branch_path(branch) -> str:
    """The branch's name with its parents', slash-separated from the tree
    (``track/pt``): how uproot's ``tree[...]`` finds a sub-branch whose own
    name is not unique."""
    names = [branch.name]
    parent = branch.parent
    while hasattr(parent, "parent") and hasattr(parent, "interpretation"):  # a TBranch
        names.append(parent.name)
        parent = parent.parent
    return "/".join(reversed(names))


def describe(outdir: Path) -> None:
    import uproot

    rows = []
    sample = outdir / "coverage-zstd.root"
    with uproot.open(sample) as f:
        for key, cls in sorted(f.classnames().items()):
            if cls != "TTree":
                continue
            tree = f[key]
            rows.append(f"\n**`{key.split(';')[0]}`** ({tree.num_entries} entries)\n")
            rows.append("| branch | ROOT type | uproot interpretation | baskets (embedded) | uproot reads |")
            rows.append("|---|---|---|---|---|")
            for b in tree.itervalues(recursive=True):
                path = branch_path(b)
                try:
                    interp = repr(b.interpretation)
                except Exception as exc:  # noqa: BLE001
                    interp = f"(none: {type(exc).__name__}: {exc})"
                try:
                    b.array(library="np")
                    reads = "yes"
                except Exception as exc:  # noqa: BLE001
                    reads = f"no: {type(exc).__name__}"
                interp = re.sub(r" at 0x[0-9a-f]+", "", interp)
                interp = re.sub(r"<(TBranch\w*) '([^']*)' \((\d+) subbranches\)>", r"\1 \2, \3 subbranches", interp)
                interp = interp.replace("|", "\\|")
                try:
                    typename = b.typename
                except Exception as exc:  # noqa: BLE001
                    typename = f"(none: {type(exc).__name__})"
                rows.append(f"| `{path}` | `{typename}` | `{interp}` | "
                            f"{b.num_baskets} ({len(b.embedded_baskets)}) | {reads} |")
    readme = outdir / "README.md"
    text_ = readme.read_text()
    start, end = "<!-- branches -->", "<!-- /branches -->"
    head, _, rest = text_.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(head + start + "\n" + "\n".join(rows) + "\n\n" + end + tail)
    print(f"{readme}: {len(rows)} lines")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["write", "describe"])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(args.outdir)
    else:
        describe(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
