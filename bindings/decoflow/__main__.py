"""``python -m decoflow``: version and build facts, or a quick self-test."""

from __future__ import annotations

import argparse
import inspect
import sys


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


# The command-line tools, for --help, help(decoflow) and the API reference.
COMMAND_LINE_TOOLS = [
    ("python -m decoflow", "this module: --version, --info (codecs, Python), --self-test, "
                           "--api-reference"),
    ("decoflow-decode", "a multi-frame .zst or independent-block .lz4 file (or a pipe) "
                        "decoded in parallel into one output file; `--help` for its options"),
    ("decoflow-root-decode", "numeric TTree branches of ROOT files into raw files, from the "
                             "basket tables that scripts/root_basket_table.py writes"),
    ("decoflow-glue-pipeline", "native zstd decode + Python glue from a .py file, in a C++ "
                               "program that embeds CPython (a demo of glue)"),
]
TOOLS_NOTE = ("The C++ tools are built from decoflow's source tree (build/release/samples/, or "
              "installed into a prefix with `cmake --install`); `pip install` does not install "
              "them.")


def _describe(module, prefix: str, lines: list[str]) -> None:
    """Appends each public name of ``module`` (its __all__) with its signature
    and the first paragraph of its docstring, and its classes' members."""
    for name in module.__all__:
        obj = getattr(module, name)
        if name.startswith("__"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # listed in the errors table
        try:
            sig = str(inspect.signature(obj)) if callable(obj) else ""
        except (TypeError, ValueError):
            sig = ""
        lines.append(f"- `{prefix}.{name}{sig}`: {_first_paragraph(obj)}")
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


def api_reference() -> str:
    """The public API as Markdown: each name of decoflow.__all__ and
    decoflow.root.__all__ with its signature and the first paragraph of its
    docstring, then the command-line tools (docs/python.md embeds this; a test
    keeps the two equal)."""
    import decoflow
    import decoflow.root

    lines: list[str] = []
    _describe(decoflow, "decoflow", lines)
    lines.append("")
    summary = _first_paragraph(decoflow.root).removeprefix("decoflow.root: ")
    lines.append(f"`decoflow.root`: {summary} (the metadata read natively; `pip install uproot` for branches only uproot types)")
    lines.append("")
    _describe(decoflow.root, "decoflow.root", lines)
    for name in decoflow.root.__all__:
        obj = getattr(decoflow.root, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            lines.append(f"- `decoflow.root.{name}` (an exception): {_first_paragraph(obj)}")
    lines.append("")
    lines.append("Command-line tools:")
    lines.append("")
    for tool, what in COMMAND_LINE_TOOLS:
        lines.append(f"- `{tool}`: {what}")
    lines.append("")
    lines.append(TOOLS_NOTE)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    tools = "\n".join(f"  {tool:24} {what}" for tool, what in COMMAND_LINE_TOOLS[1:])
    parser = argparse.ArgumentParser(
        prog="python -m decoflow",
        description="decoflow: parallel decompression pipelines into shared arrays "
                    "(zstd, lz4, ROOT blocks; Python glue in own-GIL subinterpreters). "
                    "In Python: import decoflow (graphs, executors; help(decoflow)) and "
                    "decoflow.root (ROOT TTree branches into NumPy arrays: "
                    "decoflow.root.arrays('file.root:tree', ['px']); help(decoflow.root)).",
        epilog=f"command-line tools:\n{tools}\n\n{TOOLS_NOTE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
