"""Environment for benchmarks that drive huggingface_hub against the local emulator: import it first.

huggingface_hub reads these switches at import, so this module must be imported before it (and before
any generator module that imports it): no token, no telemetry, no Xet, a throw-away HF_HOME.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",  # noqa: S106 - a switch, not a password
    HF_HUB_DISABLE_XET="1",
    HF_HOME=tempfile.mkdtemp(prefix="bench-hf-home-"),
)
os.environ.pop("HF_TOKEN", None)
