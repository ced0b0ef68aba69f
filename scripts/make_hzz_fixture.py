#!/usr/bin/env python3
"""Describe every basket of the uproot-HZZ test files, as uproot reads them.

Writes ``tests/fixtures/hzz_baskets.tsv``, the fixture that
``tests/cpp/test_hzz_baskets.cpp`` checks decoflow's ROOT block decoding
against. For each of the five files ``uproot-HZZ-{zstd,lz4,zlib,lzma,
uncompressed}.root`` in ``<testdata_dir>/root/`` (see testdata/README.md),
each branch of the tree ``events`` (all of them, flat and jagged, recursively),
and each free basket ``i`` of that branch, one tab-separated line:

  file              the file's name (relative to <testdata_dir>/root/)
  branch            the branch's full name
  basket            the basket index i
  seek              fBasketSeek[i]: file offset where the basket's TKey starts
  compressed_bytes  branch.basket_compressed_bytes(i) (= fBasketBytes[i]):
                    bytes from ``seek``, TKey included
  keylen            the TKey's fKeylen (the compressed payload starts at
                    seek + keylen)
  objlen            the TKey's fObjlen: size of the decompressed payload
  xxh64             XXH64 (seed 0, 16 lowercase hex digits) of the whole
                    decompressed payload (objlen bytes: data content, then, for
                    jagged branches, the entry-offsets trailer), exactly as
                    uproot decompresses it (``Model_TBasket.raw_data``, produced
                    by ``uproot.compression.decompress``)
  last              the TBasket's fLast; last - keylen is the border between
                    content and entry offsets (== objlen for flat baskets)
  storage           how the payload is stored: ``raw`` when compressed size ==
                    uncompressed size, else the block algorithms uproot saw,
                    comma-separated (``ZSTD``, ``LZ4``, ``ZLIB``, ``LZMA``; one
                    per 9-byte-header block)

Lines starting with ``#`` are comments: the first says how the file was made
(script, uproot / xxhash versions), the second names the columns. Embedded
baskets (kept inside the TBranch object, with no TKey at an fBasketSeek) are
skipped and listed in a comment line; these files have none.

The C++ test only relies on the first eight columns.

Usage (from the project root, with the venv of ``uproot numpy xxhash``):

  .venv/bin/python scripts/make_hzz_fixture.py [testdata_dir] > tests/fixtures/hzz_baskets.tsv
  .venv/bin/python scripts/make_hzz_fixture.py [testdata_dir] -o tests/fixtures/hzz_baskets.tsv

``testdata_dir`` defaults to ``../shared/testdata`` relative to the project
root (the folder holding ``root/``). The script also cross-checks what it
writes: the TKey's fNbytes equals fBasketBytes, and uproot's decompressed
payload has exactly fObjlen bytes; it stops with an error otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uproot
import xxhash

FILES = (
    "uproot-HZZ-zstd.root",
    "uproot-HZZ-lz4.root",
    "uproot-HZZ-zlib.root",
    "uproot-HZZ-lzma.root",
    "uproot-HZZ-uncompressed.root",
)
TREE = "events"
COLUMNS = (
    "file",
    "branch",
    "basket",
    "seek",
    "compressed_bytes",
    "keylen",
    "objlen",
    "xxh64",
    "last",
    "storage",
)


def default_testdata_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"


def basket_rows(path: Path, skipped: list[str]):
    """Yields one row (a tuple of COLUMNS) per free basket of every branch."""
    with uproot.open(path) as f:
        tree = f[TREE]
        for branch in tree.values(recursive=True):
            for extra in branch.embedded_baskets:
                skipped.append(f"{path.name}:{branch.name}:{extra.basket_num}")
            num_free = branch.num_baskets - len(branch.embedded_baskets)
            seeks = branch.member("fBasketSeek")
            for i in range(num_free):
                seek = int(seeks[i])
                compressed_bytes = int(branch.basket_compressed_bytes(i))
                # Reads the chunk [seek, seek + compressed_bytes), parses the
                # TKey + TBasket header and decompresses fNbytes - fKeylen bytes
                # into fObjlen bytes with uproot.compression.decompress (or
                # copies them when both sizes are equal).
                basket = branch.basket(i)
                if basket.is_embedded:
                    skipped.append(f"{path.name}:{branch.name}:{i}")
                    continue
                keylen = int(basket.member("fKeylen"))
                objlen = int(basket.member("fObjlen"))
                nbytes = int(basket.member("fNbytes"))
                last = int(basket.member("fLast"))
                payload = basket.raw_data.tobytes()
                if nbytes != compressed_bytes:
                    raise SystemExit(
                        f"{path.name} {branch.name} basket {i}: TKey fNbytes "
                        f"{nbytes} != fBasketBytes {compressed_bytes}"
                    )
                if len(payload) != objlen:
                    raise SystemExit(
                        f"{path.name} {branch.name} basket {i}: decompressed "
                        f"{len(payload)} bytes, fObjlen says {objlen}"
                    )
                info = basket.block_compression_info
                if info is None:
                    storage = "raw"
                else:
                    storage = ",".join(str(algo) for algo, _c, _u in info)
                yield (
                    path.name,
                    branch.name,
                    i,
                    seek,
                    compressed_bytes,
                    keylen,
                    objlen,
                    xxhash.xxh64_hexdigest(payload, seed=0),
                    last,
                    storage,
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "testdata_dir",
        nargs="?",
        type=Path,
        default=default_testdata_dir(),
        help="folder holding root/uproot-HZZ-*.root (default: ../shared/testdata)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write here instead of stdout"
    )
    args = parser.parse_args(argv)

    root_dir = args.testdata_dir / "root"
    skipped: list[str] = []
    lines = [
        f"# made by scripts/make_hzz_fixture.py with uproot {uproot.__version__}, "
        f"xxhash {xxhash.VERSION} (XXH64 seed 0) from <testdata>/root/ "
        f"(tree {TREE!r}); do not edit by hand",
        "# " + "\t".join(COLUMNS),
    ]
    counts = []
    for name in FILES:
        path = root_dir / name
        if not path.is_file():
            raise SystemExit(f"not found: {path}")
        rows = list(basket_rows(path, skipped))
        counts.append(f"{name}: {len(rows)}")
        lines.extend("\t".join(str(v) for v in row) for row in rows)
    if skipped:
        lines.insert(2, "# skipped embedded baskets: " + " ".join(skipped))

    text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    print("baskets per file: " + ", ".join(counts), file=sys.stderr)
    if skipped:
        print(f"skipped {len(skipped)} embedded baskets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
