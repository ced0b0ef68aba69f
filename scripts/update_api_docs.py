#!/usr/bin/env python3
"""Rewrites the API reference section of docs/python.md from the docstrings
(`python -m decoflow --api-reference`). Run with the decoflow to document
importable, e.g. PYTHONPATH=build/release/bindings .venv/bin/python scripts/update_api_docs.py"""

import re
import subprocess
import sys
from pathlib import Path

doc = Path(__file__).resolve().parents[1] / "docs" / "python.md"
generated = subprocess.run([sys.executable, "-m", "decoflow", "--api-reference"],
                           capture_output=True, text=True, check=True).stdout
text = doc.read_text()
new = re.sub(r"(<!-- api-reference -->\n).*?(<!-- /api-reference -->)",
             lambda m: m.group(1) + generated + m.group(2), text, flags=re.S)
doc.write_text(new)
print(f"{doc}: {'updated' if new != text else 'already current'}")
