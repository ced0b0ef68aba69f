"""Every branch of every TTree of every test file: decoflow.root reads it equal
to the reference, or refuses it by name.

The files: ``../shared/testdata/root/`` (the uproot-HZZ files and ``tree/``;
skipped visibly where absent) and ``tests/fixtures/root/`` (written by ROOT
with scripts/make_root_fixtures.py). A file dropped in either folder is
walked without new code: every TTree (subdirectories too), every branch
(sub-branches too). For each branch one of:

- ``read``: ``decoflow.root.arrays(tree, [name])`` equals uproot's
  ``tree[name].array(library="np")``: dtype, shape, values (NaN equal to NaN);
  a :class:`decoflow.root.Jagged` its per-entry arrays, a
  :class:`decoflow.root.Strings` its strings. Where the folder holds
  ``root-reference.npz`` with ROOT's own values for the branch (uproot misreads
  it), those are the reference instead.
- ``refused``: decoflow raises :class:`decoflow.root.UnsupportedBranchError`
  (its ``cause`` is tallied).
- ``uproot fails``: uproot raises; decoflow must then refuse, or equal ROOT's
  values from ``root-reference.npz``.

Anything else (another exception from decoflow, a mismatch, a value decoded
where no reference exists) fails the file's test, listing every such branch.
One test per file; each file is opened once and one Executor serves all.
A coverage table per file is printed (``-s``), kept as a report section
(``-rA``), and summed up at the end of the session.
"""

from __future__ import annotations

import collections
import gc
import math
import re
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import root_test_files

import decoflow

uproot = pytest.importorskip("uproot", reason="decoflow.root reads metadata with uproot")
import decoflow.root as droot
from decoflow.root import _uproot  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
SHARED = PROJECT.parent / "shared" / "testdata" / "root"
FIXTURES = PROJECT / "tests" / "fixtures" / "root"
REFERENCE = "root-reference.npz"  # ROOT's values where uproot is wrong (make_root_fixtures.py)

# Files whose walk takes most of a minute on the 2-core development machine
# (uproot-issue-798: 2,019 branches in 17 trees, 58 s; every other file
# under 5 s, all of them together ~20 s): CI runs ``-m "not slow"``.
SLOW = {"uproot-issue-798.root",
        # ~60 MiB of nested lists and strings that uproot's library="np" makes
        # Python objects of (~2 minutes): test_root_layouts reads it fast,
        # compared through awkward.
        "big-baskets-zstd.root"}


def _files() -> list[Any]:
    return root_test_files(SLOW)


@pytest.fixture(scope="module")
def executor():
    with decoflow.Executor(threads=2) as ex:
        yield ex
    del ex
    # A refusal raised by decoflow.root.read is kept alive by a cycle (the
    # exception's traceback holds read()'s frame, whose locals hold the
    # exception) that pins the executor until a collection; collect now, so
    # that nanobind does not report the executor leaked at exit.
    gc.collect()


class _Summary:
    """Collects each file's table; prints them together at the session's end
    (a plugin registered by the fixture below, so conftest.py needs nothing)."""

    def __init__(self) -> None:
        self.tables: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.tables:
            terminalreporter.section("decoflow.root coverage")
            for table in self.tables:
                terminalreporter.write_line(table)


@pytest.fixture(scope="module")
def summary(request):
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "decoflow-root-coverage")
    yield plugin


# ------------------------------------------------------------------ the walk


def branch_path(branch: Any) -> str:
    """The branch's name with its parents', slash-separated from the tree,
    as uproot's ``tree["track/pt"]`` takes it (sub-branch names repeat)."""
    names = [branch.name]
    parent = branch.parent
    while isinstance(parent, uproot.behaviors.TBranch.TBranch):  # not the TTree
        names.append(parent.name)
        parent = parent.parent
    return "/".join(reversed(names))


def trees_of(f: Any) -> list[tuple[str, Any]]:
    """(path, TTree) of every TTree in the file, subdirectories included;
    the highest cycle of each name."""
    names = sorted({key.rsplit(";", 1)[0] for key, cls in f.classnames().items()
                    if cls == "TTree"})
    return [(name, f[name]) for name in names]


def load_reference(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"tree/branch": (counts, content)} of ROOT's own values, if any."""
    path = folder / REFERENCE
    if not path.exists():
        return {}
    with np.load(path) as npz:
        keys = {k.rsplit("/", 1)[0] for k in npz.files}
        return {k: (npz[f"{k}/counts"], npz[f"{k}/content"]) for k in keys}


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}"


def _nan_equal(a: Any, b: Any) -> bool:
    """Equality of nested Python values, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_nan_equal(a[k], b[k]) for k in a)
    return a == b


def _python(x: Any) -> Any:
    """Nested Python values of an uproot or decoflow result (STLVector,
    ndarray, Jagged, Strings, str, numbers)."""
    if isinstance(x, (str, bytes, int, float, bool)) or x is None:
        return x
    if isinstance(x, np.ndarray):
        return [_python(v) for v in x] if x.dtype == object else x.tolist()
    if isinstance(x, dict):
        return {k: _python(v) for k, v in x.items()}
    if hasattr(x, "tolist"):
        return _python(x.tolist())
    if isinstance(x, (list, tuple)):
        return [_python(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"cannot compare a {type(x).__name__}")


def _same_array(got: np.ndarray, ref: np.ndarray) -> str | None:
    if not isinstance(got, np.ndarray):
        return f"a {type(got).__name__} where uproot gives an ndarray"
    if got.dtype != ref.dtype or got.shape != ref.shape:
        return f"{got.dtype}{got.shape} where uproot gives {ref.dtype}{ref.shape}"
    if got.tobytes() == ref.tobytes():
        return None
    if ref.dtype.kind in "fc" and np.array_equal(got, ref, equal_nan=True):
        return None  # NaNs with other payloads
    bad = np.flatnonzero(~((got == ref) | ((got != got) & (ref != ref))).reshape(len(ref), -1)
                         .all(axis=1)) if ref.dtype.fields is None else [0]
    return f"values differ (first at entry {int(bad[0]) if len(bad) else '?'})"


def compare(got: Any, ref: Any) -> str | None:
    """None when decoflow's result equals uproot's ``library="np"`` one; else
    what differs."""
    if isinstance(ref, np.ndarray) and ref.dtype != object:
        return _same_array(got, ref)
    if len(got) != len(ref):
        return f"{len(got)} entries where uproot gives {len(ref)}"
    if isinstance(got, droot.Strings):
        return None if got.tolist() == [str(s) for s in ref] else "strings differ"
    if isinstance(got, droot.Jagged) and all(isinstance(r, np.ndarray) and r.dtype != object
                                             for r in ref):
        counts = np.array([len(r) for r in ref], dtype=np.int64)
        if got.offsets.dtype != np.int64 or not np.array_equal(np.diff(got.offsets), counts):
            return "entry lengths differ"
        inner = ref[0].dtype if len(ref) else got.content.dtype
        content = np.concatenate(list(ref)) if len(ref) else np.zeros((0,) + got.content.shape[1:],
                                                                    inner)
        return _same_array(got.content, content.astype(inner, copy=False))
    return None if _nan_equal(_python(got), _python(ref)) else "values differ"


def compare_awkward(got: Any, branch: Any, why: Exception) -> str | None:
    """None when decoflow's result, as awkward, equals uproot's
    ``library="ak"`` one (records of split-class objects, which uproot's
    ``library="np"`` gives as objects of its own classes)."""
    import awkward as ak

    try:
        ref = branch.array(library="ak")
        mine = droot._results.to_awkward(got)
    except Exception as exc:  # noqa: BLE001
        return f"could not compare: {_short(why)}; as awkward: {_short(exc)}"
    return None if _nan_equal(ak.to_list(mine), ak.to_list(ref)) else "values differ (awkward)"


def compare_root(got: Any, counts: np.ndarray, content: np.ndarray) -> str | None:
    """None when decoflow's result equals ROOT's values (float64 from
    TLeaf::GetValue, compared in decoflow's dtype)."""
    if isinstance(got, droot.Jagged):
        if not np.array_equal(np.diff(got.offsets), counts):
            return "entry lengths differ from ROOT's"
        values = got.content
    elif isinstance(got, np.ndarray) and got.dtype != object:
        if len(got) != len(counts) or got[0].size * len(got) != counts.sum():
            return f"shape {got.shape} where ROOT has {len(counts)} entries of {counts[:1]} values"
        values = got
    else:
        return f"a {type(got).__name__} where ROOT has numbers"
    flat = values.reshape(-1)
    expected = content.astype(flat.dtype)
    return None if np.array_equal(flat, expected, equal_nan=True) else "values differ from ROOT's"


class Coverage:
    """What became of each branch of one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.trees = 0
        self.read: list[str] = []
        self.refused: collections.Counter[str] = collections.Counter()
        self.uproot_fails: collections.Counter[str] = collections.Counter()
        self.against_root: list[str] = []
        self.failures: list[str] = []
        self.unaddressable: list[str] = []  # a second branch of the same name
        self.seconds = 0.0

    @property
    def branches(self) -> int:
        return len(self.read) + sum(self.refused.values()) + sum(self.uproot_fails.values()) + \
            len(self.failures) + len(self.unaddressable)

    def table(self) -> str:
        rows = [f"{self.path.name}: {self.trees} trees, {self.branches} branches, "
                f"{self.seconds:.1f} s",
                f"  read {len(self.read)} (against ROOT's values: {len(self.against_root)})"
                f" | refused {sum(self.refused.values())}"
                f" | uproot fails {sum(self.uproot_fails.values())}"
                f" | FAILED {len(self.failures)}"
                + (f" | not reachable by name {len(self.unaddressable)} (a duplicate name)"
                   if self.unaddressable else "")]
        for reason, n in self.refused.most_common(5):
            rows.append(f"    refused {n:5d}: {reason}")
        for reason, n in self.uproot_fails.most_common(3):
            rows.append(f"    uproot  {n:5d}: {reason}")
        return "\n".join(rows)


# The refusals decoflow.root may make (its explicit list, REFUSALS, and the
# branches uproot itself cannot describe); any other refusal fails the file.
ALLOWED_REFUSALS = (*_uproot.REFUSALS.values(), "another layout", "uproot cannot interpret it",
                    "uproot cannot read its embedded baskets", "its type differs between",
                    "its TLeafD32 title", "its TLeafF16 title")


def _reason(e: droot.UnsupportedBranchError) -> str:
    """A refusal's reason without the details that vary per branch, so that
    reasons tally: the interpretation's classes (``AsJagged>AsDtype
    header_bytes=10``), or the cause's first words."""
    cause = str(getattr(e, "cause", "") or e)
    if ": interpretation " in cause:
        cause = cause[cause.index(": interpretation ") + 2:]
    if cause.startswith("interpretation"):
        kinds = ">".join(re.findall(r"As\w+", cause))
        notes = [m.group(0) for m in [re.search(r"header_bytes=\d+", cause)] if m]
        if "[(" in cause:
            notes.append("record (leaf list)")
        if re.search(r"AsDtype\([^()]*'[^']*', '[^']*'\)", cause):
            notes.append("converted")
        return " ".join([kinds] + notes)
    if "embedded" in cause:
        return "embedded baskets"
    return re.sub(r"\d+", "N", cause.split("(", 1)[0].strip())[:100]


def check_branch(cov: Coverage, tree: Any, where: str, name: str,
                 reference: dict[str, tuple[np.ndarray, np.ndarray]], executor) -> None:
    label = f"{where}:{name}"
    try:
        ref, ref_error = tree[name].array(library="np"), None
    except Exception as exc:  # noqa: BLE001  uproot's own failure is recorded, not ours
        # uproot keeps some of its exceptions (UnknownInterpretation is the
        # branch's cached interpretation): drop the traceback, which would
        # keep this frame, and the executor, alive as long as the file.
        exc.__traceback__ = None
        ref, ref_error = None, exc
    try:
        got = droot.arrays(tree, [name], executor=executor)[name]
    except droot.UnsupportedBranchError as e:
        if not str(e.cause).startswith(ALLOWED_REFUSALS):
            cov.failures.append(f"{label}: refused for a reason not on the list: {e.cause}")
        elif ref_error is not None:
            cov.uproot_fails[type(ref_error).__name__] += 1
        else:
            cov.refused[_reason(e)] += 1
        return
    except decoflow.UnsupportedFormatError as e:
        # A layout found only while decoding (objects that are not whole rows,
        # referenced TObjects' fBits): refused by name, never called corrupt.
        if getattr(e, "branch", None) != name or "which decoflow does not decode" not in str(e):
            cov.failures.append(f"{label}: decoflow raised {_short(e)}")
        elif ref_error is not None:
            cov.uproot_fails[type(ref_error).__name__] += 1
        else:
            cov.refused["found while decoding: " + str(e).rsplit(": ", 1)[-1][:60]] += 1
        return
    except Exception as exc:  # noqa: BLE001  listed as a failure of this file
        cov.failures.append(f"{label}: decoflow raised {_short(exc)}\n"
                            + "".join(traceback.format_exception(exc)[-3:]))
        return
    root_values = reference.get(f"{where}/{name}")
    if root_values is not None:
        problem = compare_root(got, *root_values)
        cov.against_root.append(label)
    elif ref_error is not None:
        problem = f"decoded, but uproot fails ({_short(ref_error)}) and ROOT's values are not in {REFERENCE}"
    else:
        try:
            problem = compare(got, ref)
        except Exception as exc:  # noqa: BLE001  uproot's objects: compare as awkward
            problem = compare_awkward(got, tree[name], exc)
    if problem is None:
        cov.read.append(label)
    else:
        cov.failures.append(f"{label}: {problem}")


def _forget_traceback(branch: Any) -> None:
    """uproot keeps an UnknownInterpretation as the branch's interpretation,
    with the traceback of where it was first asked for: frames that hold the
    executor (nanobind then reports it leaked at exit). Drop that traceback."""
    try:
        interp = branch.interpretation
    except Exception as exc:  # noqa: BLE001  not cached: nothing kept
        exc.__traceback__ = None
        return
    if isinstance(interp, BaseException):
        interp.__traceback__ = None


def walk(path: Path, executor) -> Coverage:
    cov = Coverage(path)
    start = time.perf_counter()
    reference = load_reference(path.parent)
    with uproot.open(path) as f:
        for where, tree in trees_of(f):
            cov.trees += 1
            for branch in tree.itervalues(recursive=True):
                name = branch_path(branch)
                try:
                    found = tree[name]
                except Exception:  # noqa: BLE001  a name with '/' of its own
                    found = None
                if found is not branch:
                    if found is not None and found.name == branch.name:
                        # Two branches of one name (BDSIM writes "Primary." twice):
                        # a name reaches only the first, in uproot as in decoflow.
                        cov.unaddressable.append(f"{where}:{name}")
                    else:
                        cov.failures.append(f"{where}:{name}: uproot's tree[name] finds "
                                            f"another branch ({found!r})")
                    continue
                check_branch(cov, tree, where, name, reference, executor)
                _forget_traceback(branch)
    cov.seconds = time.perf_counter() - start
    return cov


@pytest.mark.parametrize("path", _files())
def test_every_branch(path: Path, executor, summary, request) -> None:
    cov = walk(path, executor)
    table = cov.table()
    print("\n" + table)
    request.node.add_report_section("call", "coverage", table)
    summary.tables.append(table)
    assert cov.branches > 0, f"{path}: no branch found"
    assert not cov.failures, f"{len(cov.failures)} branches of {path.name} failed:\n" + \
        "\n".join(cov.failures[:25])


def test_reference_is_used() -> None:
    """ROOT's values in the fixtures folder name branches that exist and
    that uproot indeed misreads or cannot read: otherwise uproot has been
    fixed, and the reference (and this override) should go."""
    reference = load_reference(FIXTURES)
    assert reference, f"{FIXTURES / REFERENCE} is missing (scripts/make_root_fixtures.py)"
    with uproot.open(FIXTURES / "coverage-zstd.root") as f:
        for key, (counts, content) in reference.items():
            where, name = key.split("/", 1)
            assert len(counts) == f[where].num_entries, key
            try:
                arr = f[where][name].array(library="np")
            except Exception:  # noqa: BLE001  uproot fails: ROOT is the reference
                continue
            flat = np.concatenate([np.ravel(a) for a in arr]) if arr.dtype == object else arr.ravel()
            assert not np.allclose(flat, content.astype(flat.dtype)), \
                f"uproot now reads {key} as ROOT does: drop it from {REFERENCE}"
