"""decoflow.root.dask: the same results as uproot.dask on a real distributed
cluster (two worker processes), the threaded and synchronous schedulers;
only the branches a computation uses are read (counted in baskets); a killed
worker's partitions are rerun; a bad basket's error reaches the client with
its file, branch and basket; nothing pickled carries an executor or an array.

The files are written here with uproot: three files of different lengths,
several baskets per branch, flat, fixed-size, jagged and string branches.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal

import numpy as np
import pytest

import decoflow

uproot = pytest.importorskip("uproot", reason="decoflow.root reads metadata with uproot")
ak = pytest.importorskip("awkward")
dak = pytest.importorskip("dask_awkward", reason="decoflow.root.dask needs dask-awkward")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

import decoflow.root as droot  # noqa: E402
from decoflow.root import _worker_state  # noqa: E402

# The uproot.dask references and the threaded scheduler run beside a live
# distributed client, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Running on a single-machine scheduler")

ENTRIES = [3000, 1700, 2300]
BATCH = 500  # entries per basket
STEP = 800  # entries per partition: partitions cut baskets


def events(n, seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, n)
    pt = rng.exponential(30.0, counts.sum()).astype(np.float32)
    return {
        "met": rng.normal(50, 10, n).astype(np.float32),
        "run": np.full(n, seed, np.int64),
        "pos": rng.normal(size=(n, 3)),
        "jet_pt": ak.unflatten(pt, counts),
        "jet_eta": ak.unflatten(rng.normal(size=counts.sum()), counts),
        "tag": np.array([f"event{seed}_{i % 17}" for i in range(n)], dtype=object),
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask_files")
    paths = []
    for k, n in enumerate(ENTRIES):
        path = folder / f"run{k}.root"
        data = events(n, k)
        with uproot.recreate(path, compression=uproot.ZSTD(3)) as f:
            f.mktree("events", {"met": "float32", "run": "int64", "pos": "3 * float64",
                                "jet_pt": "var * float32", "jet_eta": "var * float64",
                                "tag": "string"})
            for lo in range(0, n, BATCH):
                f["events"].extend({name: v[lo:lo + BATCH] for name, v in data.items()})
        paths.append(str(path))
    return paths


def start_cluster(**options):
    return distributed.LocalCluster(dashboard_address=":0", silence_logs=40, **options)


@pytest.fixture(scope="module")
def client():
    with start_cluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def leading_jet(a, lib=dak):
    """The pT of the leading jet of the events with at least two jets (a
    dask-awkward collection, or an awkward array with lib=ak)."""
    return a.jet_pt[lib.num(a.jet_pt, axis=1) >= 2][:, 0]


def test_reduction_and_selection_equal_uproot_dask(files, client):
    source = [f + ":events" for f in files]
    ours = droot.dask(source, step_size=STEP)
    theirs = uproot.dask(source, step_size=STEP)
    assert ours.divisions == theirs.divisions and ours.npartitions == 10
    def sums(a):
        return {"met": dak.sum(a.met), "jets": dak.sum(a.jet_pt, axis=None),
                "eta": dak.sum(a.jet_eta, axis=None), "pos": dak.sum(a.pos, axis=None),
                "tag": dak.sum(dak.num(a.tag, axis=1))}  # bytes of text

    # uproot.dask's own collection is computed here: its tasks carry uproot's
    # TTree objects, whose string interpretation holds a threading.local
    # that does not pickle (uproot 5.7), so they cannot go to a worker process.
    got = dask.compute(sums(ours))[0]
    want = dask.compute(sums(theirs), scheduler="sync")[0]
    assert got.keys() == want.keys()
    for name in got:
        assert got[name] == pytest.approx(want[name], rel=1e-6), name
    lead = leading_jet(ours).compute()
    lead_ref = leading_jet(theirs).compute(scheduler="sync")
    assert len(lead) > 1000
    assert np.array_equal(ak.to_numpy(lead), ak.to_numpy(lead_ref))
    whole, whole_ref = ours.compute(), theirs.compute(scheduler="sync")  # every value
    for name in ("met", "run", "pos", "jet_pt", "jet_eta", "tag"):
        assert ak.to_list(whole[name]) == ak.to_list(whole_ref[name]), name


def test_library_np_equals_uproot_dask(files, client):
    source = {f: "events" for f in files}
    ours = droot.dask(source, library="np", steps_per_file=2)
    theirs = uproot.dask(source, library="np", steps_per_file=2)
    assert list(ours) == list(theirs)
    got = dask.compute(ours)[0]
    # uproot.dask's "pos" (3 floats per entry) does not compute: its chunks
    # leave out the inner dimension; it is compared with uproot.concatenate.
    names = [n for n in ours if n != "pos"]
    want = dask.compute({n: theirs[n] for n in names}, scheduler="sync")[0]
    for name in names:
        assert ours[name].chunks == theirs[name].chunks, name
        assert got[name].dtype == want[name].dtype, name
        if got[name].dtype == object:
            assert [np.asarray(x).tolist() if not isinstance(x, str) else x
                    for x in got[name]] == [np.asarray(x).tolist() if not isinstance(x, str)
                                            else x for x in want[name]], name
        else:
            assert got[name].tobytes() == want[name].tobytes(), name
    pos = uproot.concatenate(source, ["pos"], library="np")["pos"]
    assert ours["pos"].chunks[1] == (3,) and got["pos"].tobytes() == pos.tobytes()


def baskets_in(path, name, start, stop):
    """Baskets of the branch holding an entry of [start, stop)."""
    with uproot.open(path) as f:
        bounds = f["events"][name].entry_offsets
    return sum(1 for lo, hi in zip(bounds[:-1], bounds[1:]) if lo < stop and hi > start)


def test_projection_reads_only_the_branches_used(files, client):
    ours = droot.dask([f + ":events" for f in files], step_size=STEP)
    total = dak.sum(ours.met)
    lead = dak.sum(leading_jet(ours))
    assert dak.necessary_columns(total) == {ours.name: frozenset({"met"})}
    assert dak.necessary_columns(lead) == {ours.name: frozenset({"jet_pt"})}
    client.run(droot.baskets_decoded, reset=True)
    got_total, got_lead = dask.compute(total, lead)
    counts = {}
    for per_worker in client.run(droot.baskets_decoded, reset=True).values():
        for name, n in per_worker.items():
            counts[name] = counts.get(name, 0) + n
    partitions = [(path, lo, min(lo + STEP, n)) for path, n in zip(files, ENTRIES)
                  for lo in range(0, n, STEP)]
    expected = {name: sum(baskets_in(p, name, lo, hi) for p, lo, hi in partitions)
                for name in ("met", "jet_pt")}
    assert counts == expected  # each partition's baskets of those two branches, nothing else
    # One executor in each worker process, of the worker's one thread; each
    # file's metadata read once per worker, whatever the partitions and
    # selections that worker ran.
    assert list(client.run(worker_executors).values()) == [{1: 1}, {1: 1}]
    for opened in client.run(files_opened).values():
        assert set(opened) <= set(files) and set(opened.values()) == {1}, opened
    ref = uproot.concatenate([f + ":events" for f in files], ["met", "jet_pt"])
    assert got_total == pytest.approx(float(ak.sum(ak.values_astype(ref.met, np.float64))), rel=1e-6)
    assert got_lead == pytest.approx(float(ak.sum(leading_jet(ref, ak))), rel=1e-6)


def worker_executors(dask_worker):
    return {n: ex.threads for n, ex in dask_worker.plugins["decoflow-executors"].executors.items()}


def files_opened():
    return dict(_worker_state.opens)


def test_a_bad_basket_fails_on_the_client_naming_file_branch_basket(files, client, tmp_path):
    bad = tmp_path / "bad.root"
    shutil.copy(files[1], bad)
    with uproot.open(bad) as f:
        branch = f["events"]["jet_pt"]
        seek, size = int(branch.member("fBasketSeek")[2]), int(branch.member("fBasketBytes")[2])
        keylen = branch.basket(2).member("fKeylen")
    data = bytearray(bad.read_bytes())
    data[seek + keylen + 13: seek + size] = bytes(size - keylen - 13)  # zeros: not zstd
    bad.write_bytes(bytes(data))
    ours = droot.dask([files[0] + ":events", str(bad) + ":events"], step_size=STEP)
    assert dask.compute(dak.sum(ours.met))[0] > 0  # the other branches read as they are
    with pytest.raises(decoflow.CorruptInputError) as info:
        dak.sum(ours.jet_pt, axis=None).compute()
    e = info.value
    assert (e.file, e.branch, e.basket) == (str(bad), "jet_pt", 2)
    assert "branch 'jet_pt' basket 2" in str(e) and e.arrays is None


def test_threaded_and_synchronous_schedulers(files):
    source = f"{os.path.dirname(files[0])}/run*.root:events"  # a wildcard: sorted
    ours = droot.dask(source, steps_per_file=3)
    theirs = uproot.dask([f + ":events" for f in files], steps_per_file=3)
    assert ours.divisions == theirs.divisions
    want = float(dak.sum(leading_jet(theirs)).compute(scheduler="sync"))
    for scheduler in ("threads", "sync"):
        got = dak.sum(leading_jet(ours)).compute(scheduler=scheduler)
        assert got == pytest.approx(want, rel=1e-6), scheduler
    assert dak.sum(ours.run).compute(scheduler="threads") == sum(k * n for k, n in
                                                                 enumerate(ENTRIES))


def test_explicit_steps_as_uproot_takes_them(files):
    source = {files[0]: {"object_path": "events", "steps": [[0, 1000], [1000, 3000]]},
              files[2]: {"object_path": "events", "steps": [0, 700, 2300]}}
    ours = droot.dask(source, filter_name=["met", "tag"])
    theirs = uproot.dask(source, filter_name=["met", "tag"])
    assert ours.divisions == theirs.divisions == (0, 1000, 3000, 3700, 5300)
    got, want = dask.compute(ours, theirs, scheduler="sync")
    assert ak.to_list(got) == ak.to_list(want)


class NoExecutorsNorArrays(pickle.Pickler):
    """Refuses to pickle what a task must never carry."""

    def reducer_override(self, obj):
        if isinstance(obj, (decoflow.Executor, np.ndarray, ak.Array, decoflow._core._RootTree)):
            raise AssertionError(f"pickled a {type(obj).__name__}")
        if type(obj).__module__.startswith("uproot.reading"):
            raise AssertionError(f"pickled an open file ({type(obj).__name__})")
        return NotImplemented


def test_tasks_pickle_without_executors_or_arrays(files, tmp_path):
    ours = droot.dask([f + ":events" for f in files], step_size=STEP)
    dak.sum(ours.met).compute(scheduler="sync")  # this process now has executors and readers
    total = dak.sum(leading_jet(ours))
    (optimized,) = dask.optimize(total)
    graph = dict(optimized.__dask_graph__())
    with open(tmp_path / "graph.pickle", "wb") as out:
        NoExecutorsNorArrays(out).dump(graph)
    (tmp_path / "graph.pickle").unlink()
    reader = pickle.loads(pickle.dumps(ours.dask.layers[ours.name].io_func))
    assert reader.names == ours.fields
    empty = reader.mock_empty()
    assert len(empty) == 0 and empty.fields == ours.fields


def test_one_executor_per_worker_with_its_threads_closed_with_the_worker(files):
    with start_cluster(n_workers=1, threads_per_worker=2, processes=False) as cluster, \
            distributed.Client(cluster) as c:
        ours = droot.dask([f + ":events" for f in files], step_size=STEP)
        assert dak.sum(ours.met).compute() > 0
        assert dak.sum(ours.jet_pt, axis=None).compute() > 0
        (worker,) = cluster.workers.values()
        executors = worker.plugins["decoflow-executors"].executors
        assert list(executors) == [2]  # the worker's nthreads, one for every partition
        executor = executors[2]
        assert executor.threads == 2 and not executor.closed
        one = droot.dask([f + ":events" for f in files], step_size=STEP, threads=1)
        assert dak.sum(one.met).compute() == pytest.approx(dak.sum(ours.met).compute())
        assert {n: ex.threads for n, ex in executors.items()} == {2: 2, 1: 1}
        single = executors[1]
        c.close()
    assert executor.closed and single.closed
    assert not _worker_state._files  # its files closed too


def test_a_killed_worker_has_its_partitions_rerun(files):
    """Each partition waits at a gate (after its read) until both workers
    hold one; then one worker process is killed and the gate opened: its
    partitions, the finished ones too, run again on the other."""
    with start_cluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            distributed.Client(cluster) as c:
        arrived, go = distributed.Queue("arrived"), distributed.Event("go")
        ours = droot.dask([f + ":events" for f in files], step_size=STEP)
        gated = dak.map_partitions(gate, ours.jet_pt, meta=ours.jet_pt._meta)
        future = c.compute(dak.sum(gated[dak.num(gated, axis=1) >= 2][:, 0]))
        seen = set()
        while len(seen) < 2:
            seen.add(arrived.get(timeout=60))
        victim = sorted(seen)[0]
        pid = c.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        go.set()
        got = future.result(timeout=120)
    ref = uproot.concatenate([f + ":events" for f in files], ["jet_pt"])
    assert got == pytest.approx(float(ak.sum(leading_jet(ref, ak))), rel=1e-6)


def gate(array):
    if ak.backend(array) == "typetracer":  # dask-awkward's dry run on the client
        return array
    worker = distributed.get_worker()
    distributed.Queue("arrived").put(worker.address)
    distributed.Event("go").wait(timeout=120)
    return array


def test_arguments_refused_saying_why(files):
    path = files[0] + ":events"
    with pytest.raises(TypeError, match="not both"):
        droot.dask(path, step_size=100, steps_per_file=2)
    with pytest.raises(TypeError, match="open_files"):
        droot.dask(path, open_files=False)
    with pytest.raises(TypeError, match="cut"):
        droot.dask(path, cut="met > 0")
    with pytest.raises(ValueError, match="selects no branch"):
        droot.dask(path, filter_name=["nope"])
    with pytest.raises(NotImplementedError):
        droot.dask(path, library="pd")
    with pytest.raises(ValueError, match="at least 1"):
        droot.dask(path, threads=0)


@pytest.fixture(scope="module")
def rntuple_files(tmp_path_factory):
    """Three RNTuples written by uproot, of different lengths, several
    clusters each (one per write)."""
    folder = tmp_path_factory.mktemp("dask_rntuples")
    paths = []
    for k, n in enumerate(ENTRIES):
        path = folder / f"run{k}.root"
        data = {name: v for name, v in events(n, k).items() if name != "pos"}
        data["tag"] = ak.Array(data["tag"].tolist())  # uproot's RNTuple writer takes awkward strings
        with uproot.recreate(path, compression=uproot.ZSTD(3)) as f:
            f["ntuple"] = {name: v[:BATCH] for name, v in data.items()}
            for lo in range(BATCH, n, BATCH):
                f["ntuple"].extend({name: v[lo:lo + BATCH] for name, v in data.items()})
        paths.append(str(path))
    return paths


def test_rntuples_equal_uproot_dask_and_project_their_fields(rntuple_files, client):
    source = [f + ":ntuple" for f in rntuple_files]
    ours = droot.dask(source, step_size=STEP)
    theirs = uproot.dask(source, step_size=STEP)
    assert ours.fields == theirs.fields and sorted(ours.fields) == ["jet_eta", "jet_pt", "met", "run", "tag"]
    assert ours.divisions == theirs.divisions
    whole, whole_ref = ours.compute(), theirs.compute(scheduler="sync")  # on the workers
    for name in ours.fields:
        assert whole[name].type == whole_ref[name].type, name
        assert ak.array_equal(whole[name], whole_ref[name]), name
    lead = leading_jet(ours)
    assert dak.necessary_columns(lead) == {ours.name: frozenset({"jet_pt"})}
    assert np.array_equal(ak.to_numpy(lead.compute()),
                          ak.to_numpy(leading_jet(theirs).compute(scheduler="sync")))
    numpy = droot.dask({f: "ntuple" for f in rntuple_files}, library="np", steps_per_file=2)
    got = dask.compute(numpy)[0]
    want = uproot.concatenate(source, library="ak")  # uproot.dask's "np" fails on RNTuples
    assert got["met"].dtype == np.float32 and got["jet_pt"].dtype == object
    assert got["met"].tobytes() == ak.to_numpy(want.met).tobytes()
    assert [x.tolist() for x in got["jet_pt"]] == want.jet_pt.tolist()
    assert list(got["tag"]) == want.tag.tolist()


def test_a_list_mixing_rntuples_and_ttrees_is_refused(rntuple_files, files):
    with pytest.raises(decoflow.UnsupportedFormatError, match="mixes TTrees and RNTuples"):
        droot.dask([rntuple_files[0] + ":ntuple", files[0] + ":events"])
    with pytest.raises(decoflow.UnsupportedFormatError, match="mixes TTrees and RNTuples"):
        droot.dask([files[0] + ":events", rntuple_files[0] + ":ntuple"])
