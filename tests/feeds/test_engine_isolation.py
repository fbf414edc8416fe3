"""The feed engine knows nothing of Flask or the database (STYLE.md, point 3).

Checked in a fresh interpreter, so a worker or the CLI that only needs the
engine never pays for loading the web stack.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ENGINE_MODULES = [
    "app.feeds.engine",
    "app.feeds.fetch",
    "app.feeds.links",
    "app.feeds.diagnose",
    "app.feeds.catalogue",
    "app.feeds.inspect_cli",
    "app.feeds.diagnose_cli",
]


def test_engine_imports_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in ENGINE_MODULES)
        + "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
