"""Stress and soak for the decoflow engine, through the Python package.

Not part of the default test run (minutes, not seconds). Three phases, all on
one Executor:

1. soak: GRAPHS graphs one after another, each of 1-16 chunks of random size
   (0-64 KiB) and random codec (zstd with checksums, lz4 frames with content
   checksums, lz4 blocks, raw). A fraction of the graphs has one chunk broken on
   purpose: cut short, bytes flipped, replaced by garbage, or a slice that lies
   about the decoded size. Every output is checked: arrays are poisoned first,
   chunks that ran must hold their original bytes, chunks that did not run and
   the gaps between slices must still be poison, and a broken chunk must fail
   its graph with a decoflow.Error naming that chunk. RSS is sampled along the
   way and must stay flat.
2. concurrent: CONCURRENT graphs in flight at once, repeatedly, checked alike.
3. cancel storms: bursts of large graphs cancelled at once or after a random
   short delay; each ends done (checked in full) or cancelled (every chunk done
   holds its bytes, every chunk not run is untouched).

    PYTHONPATH=build/release/bindings .venv/bin/python bench/soak.py [--graphs N] ...

Prints one summary line per phase and exits 1 on any failed check; the
numbers go into docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import lz4.block
import lz4.frame
import numpy as np
import zstandard

import decoflow

POISON = 0xA5
GAP = 16
CODECS = ("zstd", "lz4", "lz4_block", "raw")


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def physics(rng: np.random.Generator, size: int) -> bytes:
    """Big-endian words that compress 2-4x, like ROOT baskets."""
    words = (size + 3) // 4
    kind = rng.integers(0, 3)
    if kind == 0:
        values = np.round(rng.normal(30.0, 12.0, words) * 256) / 256
        data = values.astype(">f4").tobytes()
    elif kind == 1:
        data = rng.integers(0, 4, words).astype(">i4").tobytes()
    else:
        data = np.cumsum(rng.integers(0, 5, words)).astype(">i4").tobytes()
    return data[:size]


_zstd = zstandard.ZstdCompressor(level=1, write_checksum=True)


def compress(codec: str, data: bytes) -> bytes:
    if codec == "zstd":
        return _zstd.compress(data)
    if codec == "lz4":
        return lz4.frame.compress(data, content_checksum=True, block_linked=False)
    if codec == "lz4_block":
        return lz4.block.compress(data, store_size=False)
    return data


class Pool:
    """Precomputed chunks (compressing is not what is being soaked)."""

    def __init__(self, rng: np.random.Generator, count: int, max_size: int) -> None:
        self.items = []
        for _ in range(count):
            size = int(rng.integers(0, max_size + 1))
            original = physics(rng, size)
            codec = CODECS[int(rng.integers(0, len(CODECS)))]
            if not original and codec != "raw":
                codec = "raw"  # an empty chunk has no frame to decode
            self.items.append((codec, original, compress(codec, original)))


BREAKS = ("truncate", "flip", "garbage", "lie")


def break_chunk(rng: random.Random, codec: str, packed: bytes, original: bytes):
    """Returns (packed, dest_size, kind) for a chunk that must fail."""
    kind = rng.choice(BREAKS)
    if codec == "raw" or len(packed) < 2:
        kind = "lie"  # raw bytes have nothing to check but their size
    if kind == "truncate":
        return packed[: rng.randrange(1, len(packed))], len(original), kind
    if kind == "flip":
        # Past the frame's first bytes: a flipped magic is the "garbage" case.
        start = min(len(packed) - 1, 6 if codec != "lz4_block" else 0)
        pos = rng.randrange(start, len(packed))
        flipped = bytearray(packed)
        flipped[pos] ^= 1 << rng.randrange(8)
        if codec == "lz4_block":
            # A flipped literal byte in a raw lz4 block decodes to other bytes
            # of the same length: the block has no checksum to tell. Flip the
            # token instead, which changes the lengths.
            flipped = bytearray(packed)
            flipped[0] ^= 0xF0
        return bytes(flipped), len(original), kind
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(max(8, len(packed)))), len(original), kind
    return packed, len(original) + rng.choice((1, 8, 4096)), kind  # lie: slice larger than content


class Stats:
    def __init__(self) -> None:
        self.graphs = 0
        self.chunks = 0
        self.injected = 0
        self.detected = 0
        # Broken chunks that still decode to exactly their original bytes (a
        # flipped match-offset bit inside a run of zeros copies the same
        # zeros): nothing to detect, and checked byte for byte.
        self.harmless = 0
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(message)


def build(pool: Pool, rng: random.Random, name: str, chunks: int, break_one: bool):
    """A graph over `chunks` random pool items, slices separated by poisoned gaps."""
    picks = [pool.items[rng.randrange(len(pool.items))] for _ in range(chunks)]
    broken = rng.randrange(chunks) if break_one else None
    layout = []  # (codec, packed, original, dest_offset, dest_size)
    dest = GAP
    for i, (codec, original, packed) in enumerate(picks):
        dest_size = len(original)
        if i == broken:
            packed, dest_size, _ = break_chunk(rng, codec, packed, original)
        layout.append((codec, packed, original, dest, dest_size))
        dest += dest_size + GAP
    out = decoflow.empty(dest, np.uint8)
    view = np.asarray(out)
    view[:] = POISON
    graph = decoflow.Graph(name)
    data = graph.add_input(b"".join(item[1] for item in layout))
    graph.add_stage(decoflow.decode())
    offset = 0
    for codec, packed, _, dest_offset, dest_size in layout:
        graph.add_chunk(data, offset, len(packed), out, dest_offset, dest_size, codec=codec)
        offset += len(packed)
    return graph, out, view, layout, broken


def check(future, view, layout, broken, stats: Stats, name: str, cancelled_ok: bool = False) -> None:
    """Checks every byte of a finished graph's array."""
    stats.graphs += 1
    stats.chunks += len(layout)
    error = None
    try:
        future.result()
    except decoflow.CancelledError as e:
        if not cancelled_ok:
            stats.fail(f"{name}: cancelled unexpectedly: {e}")
        error = e
    except decoflow.Error as e:
        error = e
    if broken is not None:
        stats.injected += 1
        if error is not None and not isinstance(error, decoflow.CancelledError):
            if error.chunk == broken:
                stats.detected += 1
            else:
                stats.fail(f"{name}: chunk {broken} broken, error names chunk {error.chunk}: {error}")
        elif error is None:
            _, _, original, dest_offset, dest_size = layout[broken]
            if view[dest_offset:dest_offset + dest_size].tobytes() == original:
                stats.harmless += 1
            else:
                stats.fail(f"{name}: chunk {broken} ({layout[broken][0]}) broken, the graph succeeded "
                           f"with other bytes")
    elif error is not None and not isinstance(error, decoflow.CancelledError):
        stats.fail(f"{name}: no chunk broken, failed with {error!r}")
    states = future.chunk_states()
    position = 0
    for i, (codec, _, original, dest_offset, dest_size) in enumerate(layout):
        if not (view[position:dest_offset] == POISON).all():
            stats.fail(f"{name}: gap before chunk {i} written")
        position = dest_offset + dest_size
        piece = view[dest_offset:dest_offset + dest_size]
        if states[i] == 1:
            if piece.tobytes() != original and i == broken:
                stats.fail(f"{name}: broken chunk {i} ({codec}) reported done with other bytes")
            elif piece.tobytes() != original:
                stats.fail(f"{name}: chunk {i} ({codec}) done with wrong bytes")
        elif states[i] == 0 and not (piece == POISON).all():
            stats.fail(f"{name}: chunk {i} not run, its slice was written")
    if not (view[position:] == POISON).all():
        stats.fail(f"{name}: bytes after the last slice written")


def soak(ex, pool: Pool, rng: random.Random, args, stats: Stats) -> list[tuple[int, int]]:
    samples = []
    for g in range(args.graphs):
        if g % max(1, args.graphs // 10) == 0:
            samples.append((g, rss_kib()))
        name = f"soak-{g}"
        graph, _, view, layout, broken = build(pool, rng, name, rng.randint(1, 16),
                                               rng.random() < args.fail_rate)
        check(ex.submit(graph), view, layout, broken, stats, name)
    samples.append((args.graphs, rss_kib()))
    return samples


def concurrent_phase(ex, pool: Pool, rng: random.Random, args, stats: Stats) -> None:
    for round_ in range(args.rounds):
        batch = []
        for k in range(args.concurrent):
            name = f"concurrent-{round_}-{k}"
            graph, _, view, layout, broken = build(pool, rng, name, rng.randint(1, 32),
                                                   rng.random() < args.fail_rate)
            batch.append((ex.submit(graph), view, layout, broken, name))
        for future, view, layout, broken, name in batch:
            check(future, view, layout, broken, stats, name)


def cancel_storm(ex, pool: Pool, rng: random.Random, args, stats: Stats) -> int:
    cancelled = 0
    for storm in range(args.storms):
        batch = []
        for k in range(8):
            name = f"storm-{storm}-{k}"
            graph, _, view, layout, _ = build(pool, rng, name, 256, False)
            batch.append((ex.submit(graph), view, layout, name))
        if rng.random() < 0.5:
            time.sleep(rng.random() * 0.002)
        for future, *_ in batch:
            future.cancel()
        for future, view, layout, name in batch:
            check(future, view, layout, None, stats, name, cancelled_ok=True)
            cancelled += future.cancelled()
    return cancelled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--concurrent", type=int, default=32, help="graphs in flight per round")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--storms", type=int, default=200, help="bursts of 8 cancelled graphs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-rss-growth-mib", type=float, default=16.0)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    pool = Pool(np.random.default_rng(args.seed), 256, 64 * 1024)
    ok = True
    with decoflow.Executor(threads=args.threads) as ex:
        # Warm-up: first-use allocations (codec contexts, TBB's pools, NumPy)
        # are not growth.
        warm = Stats()
        soak(ex, pool, rng, argparse.Namespace(graphs=200, fail_rate=args.fail_rate), warm)

        stats = Stats()
        start = time.monotonic()
        samples = soak(ex, pool, rng, args, stats)
        growth = (samples[-1][1] - samples[0][1]) / 1024
        print(f"soak: {stats.graphs} graphs, {stats.chunks} chunks, {stats.injected} injected failures, "
              f"{stats.detected} detected, {stats.harmless} harmless (decoded to the original bytes), "
              f"RSS {samples[0][1] / 1024:.1f} -> {samples[-1][1] / 1024:.1f} MiB "
              f"(samples: {' '.join(f'{kib / 1024:.1f}' for _, kib in samples)}), "
              f"{time.monotonic() - start:.1f} s, {args.threads} threads")
        if growth > args.max_rss_growth_mib:
            print(f"soak: RSS grew {growth:.1f} MiB (limit {args.max_rss_growth_mib})")
            ok = False
        ok = report("soak", stats) and ok

        stats = Stats()
        start = time.monotonic()
        concurrent_phase(ex, pool, rng, args, stats)
        print(f"concurrent: {stats.graphs} graphs ({args.concurrent} in flight), {stats.chunks} chunks, "
              f"{stats.injected} injected failures, {stats.detected} detected, {stats.harmless} harmless, "
              f"{time.monotonic() - start:.1f} s")
        ok = report("concurrent", stats) and ok

        stats = Stats()
        start = time.monotonic()
        cancelled = cancel_storm(ex, pool, rng, args, stats)
        print(f"cancel storms: {args.storms} storms, {stats.graphs} graphs, {stats.chunks} chunks, "
              f"{cancelled} ended cancelled, {stats.graphs - cancelled} finished first, "
              f"{time.monotonic() - start:.1f} s; RSS now {rss_kib() / 1024:.1f} MiB")
        ok = report("cancel storms", stats) and ok
    print("soak: all checks passed" if ok else "soak: FAILED")
    return 0 if ok else 1


def report(phase: str, stats: Stats) -> bool:
    for message in stats.failures:
        print(f"{phase}: FAILED: {message}")
    return not stats.failures


if __name__ == "__main__":
    sys.exit(main())
