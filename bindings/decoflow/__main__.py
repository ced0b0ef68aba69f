"""``python -m decoflow``: version and build facts, or a quick self-test."""

from __future__ import annotations

import argparse
import inspect
import sys


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def api_reference() -> str:
    """The public API as Markdown: each name of decoflow.__all__ with its
    signature and the first paragraph of its docstring (docs/python.md embeds
    this; a test keeps the two equal)."""
    import decoflow

    lines = []
    for name in decoflow.__all__:
        obj = getattr(decoflow, name)
        if name.startswith("__"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # listed in the errors table
        try:
            sig = str(inspect.signature(obj)) if callable(obj) else ""
        except (TypeError, ValueError):
            sig = ""
        lines.append(f"- `decoflow.{name}{sig}`: {_first_paragraph(obj)}")
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if member.startswith("_") or not (callable(value) or isinstance(value, property)
                                                  or type(value).__name__ == "nb_property"):
                    continue
                text = _first_paragraph(value)
                if not text:
                    continue
                try:
                    msig = str(inspect.signature(value)) if callable(value) else ""
                except (TypeError, ValueError):
                    msig = ""
                msig = msig.replace("(self, ", "(").replace("(self)", "()")
                lines.append(f"  - `.{member}{msig}`: {text}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m decoflow",
        description="decoflow: parallel decompression pipelines into shared arrays "
                    "(zstd, lz4, ROOT blocks; Python glue in own-GIL subinterpreters).",
    )
    parser.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    parser.add_argument("--info", action="store_true",
                        help="print the version, the codecs and the Python in use")
    parser.add_argument("--api-reference", action="store_true",
                        help="print the API reference (Markdown, from the docstrings)")
    parser.add_argument("--self-test", action="store_true",
                        help="decode a small generated graph (raw chunks) and check it")
    args = parser.parse_args(argv)

    import decoflow

    if args.version:
        print(f"decoflow {decoflow.__version__}")
        return 0
    if args.api_reference:
        print(api_reference(), end="")
        return 0
    if args.self_test:
        import numpy as np

        data = np.arange(1 << 16, dtype=np.uint32)
        out = decoflow.empty(data.shape, data.dtype)
        g = decoflow.Graph("self-test")
        inp = g.add_input(data)
        n = 64
        size = data.nbytes // n
        g.add_stage(decoflow.decode())
        g.add_chunks(inp, np.arange(n) * size, size, out, size)
        with decoflow.Executor() as ex:
            ex.submit(g).result()
        ok = bool(np.array_equal(np.asarray(out), data))
        print("self-test:", "ok" if ok else "WRONG")
        return 0 if ok else 1
    print(f"decoflow {decoflow.__version__}")
    print(f"codecs: {', '.join(decoflow.codecs())}")
    print(f"python: {sys.version.split()[0]} ({sys.executable})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
