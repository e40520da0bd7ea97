"""Test environment and shared fixtures.

huggingface_hub freezes HF_ENDPOINT, HF_HOME and its switches at import (hub-api.md §2), so the
environment is set here, before any test module imports it: a session Hub emulator is bound first to
learn its port, tokens are unset, telemetry, implicit tokens and Xet are off, HF_HOME is a temporary
folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub_emulator import HubEmulator

_EMULATOR = HubEmulator().start()
_HF_HOME = tempfile.mkdtemp(prefix="lora-alchemy-hf-home-")
for _name in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_OIDC_RESOURCE",
    "HF_HUB_OFFLINE",
    "HUGGINGFACE_CO_STAGING",
):
    os.environ.pop(_name, None)
os.environ.update(
    HF_ENDPOINT=_EMULATOR.endpoint,
    HF_HOME=_HF_HOME,
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",  # noqa: S106 - a switch, not a password
    HF_HUB_DISABLE_XET="1",
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def hub_session() -> Iterator[HubEmulator]:
    """The emulator HF_ENDPOINT points at, for the whole session."""
    yield _EMULATOR
    _EMULATOR.stop()
    shutil.rmtree(_HF_HOME, ignore_errors=True)


@pytest.fixture
def hub(hub_session: HubEmulator) -> HubEmulator:
    """The session emulator, emptied (no repos, faults, counts) for this test."""
    hub_session.reset()
    return hub_session


@pytest.fixture
def catalog_root(tmp_path: Path) -> Path:
    """A project folder holding a copy of the real data/ (without a snapshot), safe to modify."""
    shutil.copytree(ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns("hub-snapshot.json"))
    return tmp_path
