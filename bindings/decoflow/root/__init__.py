"""decoflow.root: TTree branches and RNTuple fields of ROOT files, decoded in parallel into NumPy arrays.

decoflow reads the file's metadata itself (which baskets each branch has,
where, how big: graphs/root_tree_meta.hpp, one call per file; a branch whose
type it cannot tell from the metadata alone is read through uproot) and does
the rest natively too, with no Python per basket: one graph per
read, one chunk per basket, every basket decompressed (``ZS``, ``L4``,
``ZL``, ``XZ`` or stored raw), turned into native byte order and written into
its slice of one array per branch::

    import decoflow.root
    arrays = decoflow.root.arrays("HZZ.root:events", ["MET_px", "Jet_Px"])
    arrays["MET_px"]            # numpy.ndarray, float32
    arrays["Jet_Px"].content    # numpy.ndarray of every jet's Px
    arrays["Jet_Px"].offsets    # int64, len(entries) + 1
    arrays["Jet_Px"].to_awkward()

    arrays["Jet_Px"][arrays["MET_px"] > 0]    # a Jagged: masks, int arrays, steps
    events = decoflow.root.arrays("HZZ.root:events", ["MET_px", "Jet_Px"], library="ak")
    events.Jet_Px               # one awkward record array, as uproot's tree.arrays()
    decoflow.root.arrays("HZZ.root:events", ["MET_px"], library="pd")  # uproot's DataFrame

    for step in decoflow.root.iterate("HZZ.root:events", ["MET_px"], step_size="100 MB"):
        ...                     # {name: array} per range of entries

``library="np"`` is the default (uproot's is ``"ak"``). uproot's arguments that
decoflow does not take (``cut=``, ``aliases=``, expressions, ...) raise a
TypeError saying what to do instead.

Supported: numbers of every primitive type — flat, fixed-size arrays
(``x[3]/F``), jagged (``x[n]/F``, ``std::vector<T>``, ``T* x //[n]``
members, ``float x[n][3]``: :class:`Jagged`), ``Double32_t`` / ``Float16_t``
(ranges, bits or neither), leaf lists (NumPy structured arrays) — strings
(``char*``, ``std::string``, ``TString``: :class:`Strings`, the bytes as stored
plus each entry's start and stop) and lists of lists
(``std::vector<std::vector<T>>`` up to four levels, ``std::vector<std::string>``:
a :class:`Jagged` of the :class:`Jagged` or :class:`Strings` below); baskets
kept inside their TBranch record (uproot's ``embedded_baskets``) are read like
the others. Other branches (objects, other STL containers, split-class
records, parents of sub-branches) raise :class:`UnsupportedBranchError` naming
the branch and its interpretation (the list: ``decoflow.root._uproot.REFUSALS``).

Many files on a Dask cluster: ``decoflow.root.dask("data/*.root:events",
filter_name=[...], step_size="100 MB")`` is ``uproot.dask``'s lazy
dask-awkward collection, one partition per (file, entry range), each decoded
by decoflow in the worker that runs it (one executor per worker), reading only
the branches the computation uses.

Several files (a list of paths or trees, one tree each) are read as one: one
graph, every basket of every file straight into its slice of one array per
branch.

RNTuples (ROOT's columnar successor of TTree, format 1.0) are read by the same
calls: ``decoflow.root.arrays("file.root:ntuple", ["Jet_pt"])``. uproot says
which object a path names; decoflow reads the rest natively (the anchor from
its key, the header, footer and page list envelopes, their xxHash3 checked) and decodes
one chunk per page, in parallel, straight into its slice: ROOT blocks or raw
pages, page checksums, split byte planes, zigzag, delta-encoded offsets
(made global without a serial pass), bits, Real16, Real32Trunc, Real32Quant,
deferred columns and representations that change between clusters. The
fields come back as uproot's RNTuple reader builds them (``library="ak"``:
the same types and values): numbers, std::vector/RVec and other collections
(nested too), std::array, std::bitset, records (structs, classes with bases,
std::pair, std::tuple, NanoAOD-style ``_collection0``), std::atomic, enums,
std::string, RNTupleCardinality, std::optional (an option type),
std::unique_ptr (a list, as uproot gives it) and std::variant (a union).
``library="np"`` gives NumPy arrays,
:class:`Jagged` and :class:`Strings` where the field is one of those, awkward
arrays otherwise. Streamer fields are refused naming the field and its
type. An entry range decodes the clusters holding
it; iterate() decodes the clusters holding a step, and the steps that lie
inside them are views of that decode (a cluster straddling the end of one
decode and the next step is decoded by both). A list mixing TTrees and RNTuples is refused.

A basket that fails (a truncated file, a basket table pointing outside the
file, bytes that do not decode, string lengths that disagree with the entry
offsets) fails its branch only; the others are decoded whole. The exception
raised names the branch and the basket, and carries the branches that did
decode in ``.arrays``. What is detected: every structure and size (the TKey
against the basket table, the block headers, the decoded sizes, the entry
offsets, the string lengths) and the checksums the file holds (``L4``'s
xxhash64, zlib's adler32, the xz check). A byte changed inside a zstd payload
that still decodes to the right size cannot be seen: ROOT writes zstd blocks
without a checksum (uproot cannot see it either).

Per-basket Python: nothing. From a path, the tree's metadata is one native
call per file, kept in C++, the basket tables built there too (an uproot tree
passed in: one uproot metadata read per branch, vectorised NumPy, no loop
over baskets); the engine
then plans, decodes, checks and windows every branch in C++
(decoflow/root_branches.hpp), one call to plan and one to collect.

``keys(path)`` lists a file's keys and ``branches("f.root:tree")`` a tree's
branches with their types, natively.

The package, one concept per module: ``_native`` (trees of paths: their
branches and kinds from the native reader), ``_uproot`` (the same from
uproot's metadata), ``_listing`` (keys, branches), ``_select`` (filter_name, entry
ranges, step sizes), ``_results`` (Jagged, Strings, RootRead), ``_read``
(read, arrays: the engine's plan, submit, collect), ``_iterate``, ``_rntuple``
(RNTuple fields: their columns, and awkward layouts from them), ``_dask``
(the Dask collections) and ``_worker_state`` (what a process running their
partitions keeps: executors, opened files, counts).
"""

from __future__ import annotations

from .._errors import UnsupportedBranchError
from ._dask import dask
from ._iterate import iterate
from ._listing import branches, keys
from ._read import arrays, read
from ._results import Jagged, RootRead, Strings
from ._worker_state import baskets_decoded

__all__ = ["arrays", "branches", "iterate", "keys", "read", "dask", "baskets_decoded", "Jagged",
           "RootRead", "Strings", "UnsupportedBranchError"]
