"""`make serve`: editing a file in data/ re-renders the pages and the live preview shows it, no restart;
SIGINT, SIGTERM and SIGHUP end the whole `mkdocs serve` process group and free the port.

The processes are found through /proc (Linux), the platform CI runs on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

from generator.errors import ExitCode
from generator.site import serve
from tests.sitebuild import make_project

pytestmark = pytest.mark.slow
LORA = "data/loras/fusionx-t2v-14b.yaml"
PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not (PROC / "self" / "stat").exists(), reason="reads processes from /proc")
STOP_SECONDS = 10.0
"""How long serve may take to exit, and then to free its port, after a stop signal."""


class Proc(NamedTuple):
    """One process as /proc/PID/stat shows it."""

    pid: int
    ppid: int
    pgid: int
    state: str

    def cmdline(self) -> list[str]:
        """Its command line ([] once it is gone)."""
        try:
            raw = (PROC / str(self.pid) / "cmdline").read_bytes()
        except OSError:
            return []
        return raw.decode("utf-8", "replace").split("\0")[:-1]


def _read_proc(pid: int) -> Proc | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # gone meanwhile
        return None
    state, ppid, pgid = text[text.rindex(")") + 2 :].split()[:3]  # the name in (...) may hold spaces
    return Proc(pid, int(ppid), int(pgid), state)


def _processes() -> list[Proc]:
    """Every process, zombies included ([] without /proc)."""
    if not PROC.is_dir():
        return []
    found = (_read_proc(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return [proc for proc in found if proc is not None]


def _group(pgid: int) -> list[Proc]:
    return [proc for proc in _processes() if proc.pgid == pgid]


def _group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """True when a new server could listen on the port. SO_REUSEADDR, as http.server sets it, so the
    TIME_WAIT left by the test's own requests does not count; a listening socket still does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


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


def _eventually(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether condition() turns true within the given seconds (polled)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Served:
    """A running `python -m generator serve` and what the tests need to know about it."""

    project: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    groups: set[int] = field(default_factory=set)
    """Process groups of the mkdocs children seen so far (the teardown kills what is left of them)."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/lora-alchemy"  # mkdocs serve adds site_url's path

    def mkdocs_group(self) -> int:
        """The process group of serve's `mkdocs serve` child: a group of its own, led by the child."""
        children = [p for p in _processes() if p.ppid == self.process.pid and "mkdocs" in p.cmdline()]
        assert len(children) == 1, f"expected one mkdocs child of serve, found {children}"
        child = children[0]
        assert child.pgid == child.pid, f"mkdocs serve is not in a process group of its own: {child}"
        assert child.pgid != os.getpgrp(), "mkdocs serve shares the test runner's process group"
        self.groups.add(child.pgid)
        return child.pgid

    def output(self) -> str:
        """What serve and mkdocs printed, for failure messages."""
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Leave nothing running, whatever state the test left serve in.

        SIGTERM to serve (SIGKILL if it hangs), then SIGKILL to every mkdocs process group it had, and to
        any `mkdocs serve` still on this port (a child started after the last look, or orphaned).
        """
        if self.process.poll() is None:
            with contextlib.suppress(AssertionError):  # no child (yet): serve alone is stopped below
                self.mkdocs_group()
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        address = f"127.0.0.1:{self.port}"
        for proc in _processes():
            command = proc.cmdline()
            if "mkdocs" in command and address in command:
                self.groups.add(proc.pgid if proc.pgid == proc.pid else -proc.pid)
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                if group < 0:  # not a group leader: only that process, never a group it merely joined
                    os.kill(-group, signal.SIGKILL)
                elif group != os.getpgrp():  # never the test runner's own group
                    os.killpg(group, signal.SIGKILL)
        self.groups.clear()  # a second stop() signals nothing (the numbers may be reused later)


_LAUNCH = (
    "import os, signal, sys; "
    "[signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]; "
    "[signal.signal(getattr(signal, name), signal.SIG_IGN) for name in sys.argv[1].split(',') if name]; "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)
"""Start serve with the stop signals at their defaults, as from a terminal, except those named in argv[1]
(ignored, as under nohup); then exec serve in place (same pid)."""


@pytest.fixture(name="served")
def _served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    """`generator serve` on a copy of the project and a free port; stopped and cleaned up even on failure.

    Parametrized indirectly with signal names, serve starts with those signals ignored.
    """
    ignored = ",".join(getattr(request, "param", ()))
    project = make_project(tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    # A runner started with a stop signal ignored (a background job of a script, nohup) would hand that
    # on, and serve rightly keeps an ignored signal ignored: _LAUNCH sets them as the test wants.
    command = [sys.executable, "-c", _LAUNCH, ignored, "-m", "generator", "--root", str(project), "serve"]
    command += ["--dev-addr", f"127.0.0.1:{port}"]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(project, port, process, log)
    try:
        yield served
    finally:
        served.stop()


def test_editing_data_re_renders_the_preview(served: Served) -> None:
    """A new comment in a LoRA file shows up on the served catalog page; a broken edit keeps the last pages."""
    base, process = served.base, served.process
    _wait_for(f"{base}/catalog/", "very good for 2.1")
    lora = served.project / LORA
    lora.write_text(lora.read_text().replace("very good for 2.1", "Edited while serving"))
    _wait_for(f"{base}/catalog/", "Edited while serving")
    lora.write_text(lora.read_text().replace("task: T2V", "task: T3V"))
    time.sleep(2.0)
    assert "Edited while serving" in _get(f"{base}/catalog/")  # the last good pages stay
    assert process.poll() is None, served.output()  # still serving
    lora.write_text(
        lora.read_text().replace("task: T3V", "task: T2V").replace("Edited while serving", "Fixed again")
    )
    _wait_for(f"{base}/catalog/", "Fixed again")


@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_ends_the_mkdocs_group_and_frees_the_port(
    served: Served, signum: signal.Signals
) -> None:
    """SIGTERM, SIGHUP or SIGINT to serve: it exits by itself (status 0) within 10 s, the port can be
    listened on again within 10 s, and no process of mkdocs serve's process group is left."""
    _wait_for(f"{served.base}/catalog/", "very good for 2.1")
    pgid = served.mkdocs_group()
    assert not _port_is_free(served.port)  # the check below can see a listening server

    served.process.send_signal(signum)
    try:
        served.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still runs {STOP_SECONDS} s after {signum.name}:\n{served.output()}")
    assert served.process.returncode == ExitCode.OK, served.output()
    assert _eventually(lambda: _port_is_free(served.port), STOP_SECONDS), (
        f"port {served.port} still in use {STOP_SECONDS} s after serve exited:\n{served.output()}"
    )
    assert _group(pgid) == [], f"left running: {[(p, p.cmdline()) for p in _group(pgid)]}"
    assert _group_is_gone(pgid)


@needs_proc
def test_the_fixture_cleans_up_after_a_killed_serve(served: Served) -> None:
    """The safety net of these tests: serve killed outright (SIGKILL, no clean-up of its own) orphans
    mkdocs serve; the fixture's stop() still ends that group and frees the port."""
    _wait_for(f"{served.base}/catalog/", "very good for 2.1")
    pgid = served.mkdocs_group()
    served.process.kill()
    served.process.wait(timeout=STOP_SECONDS)
    assert not _group_is_gone(pgid)  # orphaned, still serving: what stop() must clean up
    served.groups.clear()  # found again by its command line, as a child started after the last look would be

    served.stop()

    assert _eventually(lambda: _group_is_gone(pgid), STOP_SECONDS), _group(pgid)
    assert _eventually(lambda: _port_is_free(served.port), STOP_SECONDS)


@pytest.mark.parametrize("served", [("SIGHUP",)], indirect=True)
def test_serve_under_nohup_outlives_a_hang_up(served: Served) -> None:
    """Started with SIGHUP ignored (nohup), serve keeps serving after a SIGHUP; SIGTERM still stops it."""
    _wait_for(f"{served.base}/catalog/", "very good for 2.1")
    served.process.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert served.process.poll() is None, served.output()
    assert "very good for 2.1" in _get(f"{served.base}/catalog/")
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=STOP_SECONDS) == ExitCode.OK


@needs_proc
def test_stop_group_kills_what_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member of the group that ignores SIGTERM is killed after the grace period, even once the child
    itself has ended; stop_group returns with the group gone."""
    stubborn = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    parent = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {stubborn!r}], stdout=subprocess.PIPE, text=True); "
        "print(p.stdout.readline().strip(), flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", parent], start_new_session=True, stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    assert len(_group(child.pid)) == 2
    monkeypatch.setattr(serve, "GRACE_SECONDS", 1.0)
    started = time.monotonic()
    serve.stop_group(child)
    assert time.monotonic() - started < 1.0 + STOP_SECONDS
    alive = [proc for proc in _group(child.pid) if proc.state != "Z"]  # init reaps the dead it inherited
    assert alive == []
    assert _eventually(lambda: _group_is_gone(child.pid), STOP_SECONDS)
    child.stdout.close()
