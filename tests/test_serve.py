"""`make serve`: editing a file in data/ re-renders the pages and the live preview shows it, no restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sitebuild import make_project

pytestmark = pytest.mark.slow
LORA = "data/loras/fusionx-t2v-14b.yaml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _wait_for(url: str, needle: str, seconds: float = 90.0) -> str:
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            last = _get(url)
        except urllib.error.HTTPError as err:  # not built yet
            err.close()
            last = ""
        except OSError:  # not listening yet
            last = ""
        if needle in last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} did not appear at {url} within {seconds} s")


@pytest.fixture(name="served")
def _served(tmp_path: Path) -> Iterator[tuple[Path, str, subprocess.Popen[bytes]]]:
    project = make_project(tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    command = [sys.executable, "-m", "generator", "--root", str(project), "serve"]
    command += ["--dev-addr", f"127.0.0.1:{port}", "--interval", "0.2"]
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield (
                project,
                f"http://127.0.0.1:{port}/lora-alchemy",
                process,
            )  # mkdocs serve adds site_url's path
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_editing_data_re_renders_the_preview(served: tuple[Path, str, subprocess.Popen[bytes]]) -> None:
    """A new comment in a LoRA file shows up on the served catalog page; a broken edit keeps the last pages."""
    project, base, process = served
    _wait_for(f"{base}/catalog/", "Very good for 2.1")
    lora = project / LORA
    lora.write_text(lora.read_text().replace("Very good for 2.1", "Edited while serving"))
    _wait_for(f"{base}/catalog/", "Edited while serving")
    lora.write_text(lora.read_text().replace("task: T2V", "task: T3V"))
    time.sleep(2.0)
    assert "Edited while serving" in _get(f"{base}/catalog/")  # the last good pages stay
    assert process.poll() is None  # still serving
    lora.write_text(
        lora.read_text().replace("task: T3V", "task: T2V").replace("Edited while serving", "Fixed again")
    )
    _wait_for(f"{base}/catalog/", "Fixed again")
