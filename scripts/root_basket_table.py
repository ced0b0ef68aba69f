#!/usr/bin/env python3
"""Writes the basket table of TTree branches, for decoflow-root-decode.

Usage (uproot and numpy needed):

  python scripts/root_basket_table.py FILE.root[:TREE] [BRANCH ...] > table.tsv
  decoflow-root-decode FILE.root table.tsv --output-dir out/

Without BRANCH names, every branch decoflow can decode is listed (numeric flat,
fixed-size and jagged branches, char* strings; others are named on stderr and
left out).
One tab-separated line per basket (lines starting with ``#`` are comments):

  branch        the branch's name
  type          bool, int8, int16, int32, int64, uint8, ..., uint64, float32, float64
  layout        fixed (``x/F``, ``x[3]/F``), jagged (``x[n]/F``: an entry-offsets trailer
                per basket) or strings (``char*``: uint8, length-prefixed entries)
  items         values per entry of a fixed branch (3 for ``x[3]/F``), else 1
  basket        the basket's index in its branch
  seek          fBasketSeek: file offset of the basket's TKey
  bytes         fBasketBytes: TKey + compressed payload
  entry_begin   the basket's first entry
  entry_end     one past its last entry

Exit status 1 when a named branch is not supported (or the tree has
baskets embedded in the TBranch object, which decoflow does not read).
"""

from __future__ import annotations

import sys

import numpy as np
import uproot

TYPES = {("b", 1): "bool", ("i", 1): "int8", ("i", 2): "int16", ("i", 4): "int32",
         ("i", 8): "int64", ("u", 1): "uint8", ("u", 2): "uint16", ("u", 4): "uint32",
         ("u", 8): "uint64", ("f", 4): "float32", ("f", 8): "float64"}


def describe(branch):
    """(type, layout, items) or a reason it is not supported."""
    interp = branch.interpretation
    if len(branch.embedded_baskets):
        return "baskets embedded in the TBranch object"
    if type(interp) is uproot.AsStrings:
        if interp.header_bytes != 0 or interp.length_bytes != "1-5":
            return f"interpretation {interp!r}"
        return "uint8", "strings", 1
    jagged = type(interp) is uproot.AsJagged
    if jagged:
        if interp.header_bytes != 0:
            return f"interpretation {interp!r}"
        interp = interp.content
    if type(interp) is not uproot.AsDtype:
        return f"interpretation {interp!r}"
    dt = np.dtype(interp.from_dtype)
    base, inner = dt.subdtype if dt.subdtype else (dt, ())
    name = TYPES.get((base.kind, base.itemsize))
    if name is None or (jagged and inner):
        return f"interpretation {interp!r}"
    return name, "jagged" if jagged else "fixed", int(np.prod(inner)) if inner else 1


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    source, names = argv[0], argv[1:]
    path, _, tree_name = source.partition(":")
    with uproot.open(path) as f:
        if not tree_name:
            trees = sorted({k.split(";")[0] for k, c in f.classnames().items() if c == "TTree"})
            if len(trees) != 1:
                print(f"{path}: name a tree (FILE:TREE) among {trees}", file=sys.stderr)
                return 2
            tree_name = trees[0]
        tree = f[tree_name]
        explicit = bool(names)
        names = names or [b.name for b in tree.branches]
        out = [f"# basket table of {path}:{tree_name} (scripts/root_basket_table.py, "
               f"uproot {uproot.__version__})",
               "# branch\ttype\tlayout\titems\tbasket\tseek\tbytes\tentry_begin\tentry_end"]
        status = 0
        for name in names:
            branch = tree[name]
            what = describe(branch)
            if isinstance(what, str):
                print(f"branch '{name}' not supported: {what}", file=sys.stderr)
                status = 1 if explicit else status
                continue
            type_name, layout, items = what
            n = branch.num_baskets
            seeks = np.asarray(branch.member("fBasketSeek")[:n], dtype=np.int64)
            sizes = np.asarray(branch.member("fBasketBytes")[:n], dtype=np.int64)
            edges = np.asarray(branch.entry_offsets, dtype=np.int64)
            out.extend(f"{name}\t{type_name}\t{layout}\t{items}\t{i}\t{seeks[i]}\t{sizes[i]}\t"
                       f"{edges[i]}\t{edges[i + 1]}" for i in range(n))
    sys.stdout.write("\n".join(out) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
