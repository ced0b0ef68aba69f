"""Example glue for decoflow-glue-pipeline (runs inside a subinterpreter).

Each chunk holds big-endian pairs of (int32 count, float32 momentum), as the
physics-like test data does. The glue walks them in pure Python — the kind of
step uproot-style readers run between native calls — and returns how many
momenta exceed 40. It sees the chunk after decompression and before the native
byteswap, so it reads big-endian.
"""
import struct


def count_fast(src, dst, index, tag):
    fast = 0
    for _count, momentum in struct.iter_unpack(">if", dst):
        if momentum > 40.0:
            fast += 1
    return fast
