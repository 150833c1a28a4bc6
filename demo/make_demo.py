"""Regenerate the bundled demo day (demo/day/, demo/expected.jsonl, demo/README.md).

Run from the repository root: ``python demo/make_demo.py``. The output is
byte-identical on every run; never edit the generated files by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    # Work from a checkout without installing qc first.
    sys.path.insert(0, str(HERE.parent))
    from qc.synth.conversations import build_demo

    print(build_demo(HERE))
