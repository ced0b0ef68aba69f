"""Shared fixtures: real compressed data made with zstandard, lz4 and the
standard library (zlib, lzma for ROOT blocks), and helpers to build graphs."""

from __future__ import annotations

import os
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import decoflow

ROOT = Path(__file__).resolve().parents[2]
SHARED_ROOT_FILES = ROOT.parent / "shared" / "testdata" / "root"
FIXTURE_ROOT_FILES = ROOT / "tests" / "fixtures" / "root"


def root_test_files(slow: frozenset[str] | set[str] = frozenset()) -> list:
    """pytest params of every ROOT test file: ../shared/testdata/root/ (the HZZ
    files and tree/; one visibly skipped param where absent; those named in
    `slow` marked slow) and tests/fixtures/root/."""
    params = []
    shared = SHARED_ROOT_FILES
    if shared.is_dir():
        for path in sorted(shared.glob("*.root")) + sorted((shared / "tree").glob("*.root")):
            marks = [pytest.mark.slow] if path.name in slow else []
            params.append(pytest.param(path, id=str(path.relative_to(shared)), marks=marks))
    else:
        params.append(pytest.param(None, id="shared-testdata", marks=pytest.mark.skip(
            reason=f"{shared} is absent (see ../shared/testdata/README.md)")))
    for path in sorted(FIXTURE_ROOT_FILES.glob("*.root")):
        marks = [pytest.mark.slow] if path.name in slow else []
        params.append(pytest.param(path, id=f"fixtures/{path.name}", marks=marks))
    return params


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds or installs the package (minutes)")


@dataclass
class Chunked:
    """Chunks of `original`, each compressed on its own, packed into `blob`."""

    original: np.ndarray                 # the decoded bytes (uint8)
    blob: bytes                          # every compressed chunk, back to back
    offsets: np.ndarray                  # int64: where each chunk starts in blob
    sizes: np.ndarray                    # int64: compressed sizes
    dest_sizes: np.ndarray               # int64: decoded sizes
    codec: str
    extra: dict = field(default_factory=dict)

    @property
    def dest_offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.dest_sizes)[:-1]]).astype(np.int64)


def physics_like(nbytes: int, seed: int = 1) -> np.ndarray:
    """Compressible but not trivial bytes: float32 values of a smooth-ish signal."""
    rng = np.random.default_rng(seed)
    n = nbytes // 4
    values = (np.cumsum(rng.normal(size=n)) * 8).astype(np.int32).astype(np.float32)
    raw = values.view(np.uint8)
    out = np.zeros(nbytes, np.uint8)
    out[: raw.size] = raw
    return out


def compress(codec: str, raw: bytes) -> bytes:
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compress(raw)
    if codec == "lz4_block":
        import lz4.block

        return lz4.block.compress(raw, store_size=False)
    if codec in ("lz4", "lz4_frame"):
        import lz4.frame

        return lz4.frame.compress(raw)
    if codec == "root":
        # One ROOT "ZL" block: 9-byte header, then a zlib stream.
        payload = zlib.compress(raw, 6)
        header = b"ZL" + bytes([8]) + len(payload).to_bytes(3, "little") + len(raw).to_bytes(3, "little")
        return header + payload
    if codec == "raw":
        return raw
    raise ValueError(codec)


def make_chunked(codec: str = "zstd", count: int = 16, chunk: int = 16384, seed: int = 1,
                 vary: bool = True) -> Chunked:
    rng = np.random.default_rng(seed)
    sizes = (rng.integers(chunk // 2, chunk, size=count) if vary else np.full(count, chunk))
    sizes = (sizes // 8 * 8).astype(np.int64)  # multiples of 8: byteswap-friendly
    original = physics_like(int(sizes.sum()), seed)
    parts, at = [], 0
    for s in sizes:
        parts.append(compress(codec, original[at: at + s].tobytes()))
        at += int(s)
    comp_sizes = np.array([len(p) for p in parts], np.int64)
    offsets = np.concatenate([[0], np.cumsum(comp_sizes)[:-1]]).astype(np.int64)
    return Chunked(original, b"".join(parts), offsets, comp_sizes, sizes, codec)


def graph_for(data: Chunked, out: decoflow.Array | None = None, name: str = "test",
              stages=None) -> tuple[decoflow.Graph, decoflow.Array]:
    out = out if out is not None else decoflow.empty(data.original.size)
    g = decoflow.Graph(name)
    inp = g.add_input(data.blob)
    for s in stages if stages is not None else [decoflow.decode()]:
        g.add_stage(s)
    g.add_chunks(inp, data.offsets, data.sizes, out, data.dest_sizes, codec=data.codec)
    return g, out


@pytest.fixture(scope="module")
def executor():
    with decoflow.Executor(threads=2) as ex:
        yield ex


@pytest.fixture
def chunked():
    return make_chunked()


def python_env() -> dict[str, str]:
    """Environment for a child Python that imports the same decoflow."""
    env = dict(os.environ)
    pkg_parent = str(Path(decoflow.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


__all__ = ["Chunked", "make_chunked", "graph_for", "compress", "physics_like", "python_env",
           "rss_bytes", "ROOT", "sys", "struct"]
