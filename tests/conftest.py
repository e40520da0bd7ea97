"""Test environment, shared fixtures, and which tests are slow.

huggingface_hub freezes HF_ENDPOINT, HF_HOME and its switches at import (hub-api.md §2), so the
environment is set here, before any test module imports it: a session Hub emulator is bound first to
learn its port, tokens are unset, telemetry, implicit tokens and Xet are off, HF_HOME is a temporary
folder.

Shared helpers live in small modules beside this one: ``checking`` (the check with fast retries),
``header_analysis`` (serialize, parse, analyse a header), ``browsing`` (static server, browser tab),
``sitebuild`` (a project copy built with MkDocs), ``importing`` (recipes imported afresh),
``catalog_scenario`` and ``hub_emulator``.

`make test-fast` runs ``-m "not slow and not browser"``. A test is slow when it starts a server or builds
the whole site: modules that do so throughout say ``pytestmark = pytest.mark.slow``, and every test that
uses one of the fixtures of ``tests.slow.SLOW_FIXTURES`` is marked here, at collection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.hub_emulator import HubEmulator
from tests.slow import slow_reason

if TYPE_CHECKING:
    from generator.catalog.validate import Catalog

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that uses a fixture of SLOW_FIXTURES, directly or through another fixture."""
    for item in items:
        reason = slow_reason(getattr(item, "fixturenames", ()))
        if reason is not None:
            item.add_marker(pytest.mark.slow(reason=reason))


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


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of data/ whose recipes were imported afresh from the installed package (read it, do not edit)."""
    from tests.importing import import_afresh  # the generator is imported after the environment is set

    return import_afresh(tmp_path_factory.mktemp("imported"))


@pytest.fixture(scope="session", name="catalog")
def project_catalog() -> Catalog:
    """The project's own catalog (data/), loaded once per test process (read it, do not change it). Modules
    about another catalog (test_pages: the fixture catalog) define their own `catalog` and `pages`."""
    from generator.catalog.validate import load_catalog

    return load_catalog(ROOT / "data", ROOT)


@pytest.fixture(scope="session", name="pages")
def project_pages(catalog: Catalog) -> dict[str, str]:
    """Every file `generator build` renders from the project's catalog and committed snapshot, by path under
    docs/, rendered once per test process (read them, do not change them)."""
    from generator.catalog.snapshot import read_snapshot
    from generator.site.render import render_pages

    return render_pages(catalog, read_snapshot(ROOT))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium for the browser tests (tests.browsing): skipped where it is not installed, a
    failure in CI, which installs it."""
    from tests.browsing import chromium_or_skip

    with chromium_or_skip() as launched:
        yield launched
