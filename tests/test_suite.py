"""The suite's own rules: which tests are slow (and so left out of `make test-fast`), and what `make test` measures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from tests.hub_emulator import HubEmulator
from tests.slow import SLOW_FIXTURES, slow_reason

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("fixtures", "because"),
    [
        ((), None),
        (("tmp_path", "catalog_root", "capsys"), None),
        (("tmp_path", "hub"), "hub"),
        (("hub_session", "hub"), "hub"),
        (("hub_session",), "hub_session"),
        (("web", "monkeypatch"), "web"),
    ],
)
def test_slow_reason_names_the_fixture_that_makes_a_test_slow(
    fixtures: tuple[str, ...], because: str | None
) -> None:
    """A test is slow when one of its fixtures starts or talks to a server; the first such fixture gives the reason."""
    assert slow_reason(fixtures) == (SLOW_FIXTURES[because] if because else None)


def test_a_test_using_the_emulator_is_marked_slow(hub: HubEmulator, request: pytest.FixtureRequest) -> None:
    """The collection hook marked this very test, which uses the Hub emulator."""
    marker = request.node.get_closest_marker("slow")
    assert marker is not None
    assert marker.kwargs["reason"] == SLOW_FIXTURES["hub"]
    assert hub.endpoint.startswith("http://127.0.0.1:")


def test_a_test_without_a_slow_fixture_stays_in_the_fast_loop(request: pytest.FixtureRequest) -> None:
    """Nothing marks a test that uses none of those fixtures."""
    assert request.node.get_closest_marker("slow") is None


def _make_dry_run(target: str) -> str:
    """The commands `make -n target` would run (nothing is run)."""
    venv = Path(sys.executable).parent.parent
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return next(line for line in done.stdout.splitlines() if " -m pytest " in line)


def test_make_test_measures_coverage_and_the_fast_loop_does_not() -> None:
    """`make test` (its pytest step) measures branch coverage of generator/ on every core and fails under the
    floor in pyproject.toml; `make test-fast` leaves out slow and browser tests and measures nothing."""
    full = _make_dry_run("pytest")
    assert "-n auto" in full
    assert "--cov" in full.split()
    assert "not slow" not in full
    fast = _make_dry_run("test-fast")
    assert '-m "not slow and not browser"' in fast
    assert "--cov" not in fast
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'source = ["generator"]' in config
    assert "branch = true" in config
    assert 'patch = ["subprocess"]' in config
    assert "\nfail_under = " in config


_CHILD = """
import coverage
import generator.vocabulary
current = coverage.Coverage.current()
measured = current.get_data().measured_files() if current else ()
print(any(name.endswith("generator/vocabulary.py") for name in measured))
"""


def test_a_python_subprocess_is_measured_when_the_suite_is() -> None:
    """Under `make test`, a `python` child (as `serve` and the CLI tests start) measures generator/ too."""
    if coverage.Coverage.current() is None:
        pytest.skip("coverage is not measuring this run (make test-fast)")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "True", done.stdout + done.stderr
