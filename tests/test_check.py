"""The `check` stage end to end: a copy of data/ against the Hub emulator, through the real client."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel

from generator.catalog.models import HfLink, LoraFile
from generator.catalog.snapshot import Snapshot, load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.files import exclusive, temporary_files
from generator.hub.collect import catalog_links, collect
from generator.hub.findings import Finding
from generator.hub.merge import save_snapshot
from generator.hub.report import MARKDOWN_LIMIT, Row, markdown
from tests.checking import T1, T2, run_check
from tests.hub_emulator import Fault, HubEmulator

ROOT = Path(__file__).resolve().parent.parent
MOE = "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors"
MOE_KEY = f"hf:file:Kijai/WanVideo_comfy/{MOE}"


@pytest.fixture
def root(catalog_root: Path) -> Path:
    """The data copy with its one GitHub link turned into a Hub repo link (no internet here)."""
    rcm = catalog_root / "data" / "notes" / "rcm.yaml"
    rcm.write_text(rcm.read_text().replace("https://github.com/NVlabs/rcm", "{kind: repo, repo: NVlabs/rcm}"))
    return catalog_root


@pytest.fixture
def served(hub: HubEmulator, root: Path) -> HubEmulator:
    """The emulator serving every repo, file, folder and user the catalog links to."""
    links = [link for _, link in catalog_links(load_catalog(root / "data", root)) if isinstance(link, HfLink)]
    for repo in sorted({link.repo for link in links if link.kind != "user"}):
        hub.add_repo(repo)
    for link in links:
        if link.kind == "file" and link.path:
            hub.add_lfs_file(link.repo, link.path, size=1000 + len(link.path))
        elif link.kind == "folder":
            hub.add_small_file(link.repo, f"{link.path}/README.md", b"folder\n")
        elif link.kind == "user":
            hub.add_user(link.repo)
    return hub


def snapshot_text(root: Path) -> str:
    return (root / "data" / "hub-snapshot.json").read_text()


def test_every_link_field_is_collected(root: Path) -> None:
    """Every HfLink and every https value anywhere in the catalog is among the checked links."""
    catalog = load_catalog(root / "data", root)
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, HfLink | LoraFile):
            found.add(value.label if isinstance(value, HfLink) else value.link.label)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith("https://"):
            found.add(value)

    for part in vars(catalog).values():
        walk(part)
    collected = {
        ref.link.label if isinstance(ref.link, HfLink) else ref.link
        for ref in collect(catalog_links(catalog))
    }
    assert found == collected


def test_alive_catalog_one_call_per_repo_and_stable_snapshot(served: HubEmulator, root: Path) -> None:
    """All alive: exit 0, one model_info per distinct repo, and a second run changes no byte."""
    first = run_check(root)
    assert first.exit_code == 0
    assert first.written
    repos = {ref.link.repo for ref in collect(catalog_links(load_catalog(root / "data", root)))
             if isinstance(ref.link, HfLink) and ref.link.kind != "user"}  # fmt: skip
    assert served.counts["model_info"] == len(repos)
    assert served.counts["other"] == served.counts["paths_info"] == 0  # no other API route was asked
    loras = len(load_catalog(root / "data", root).loras)
    assert served.range_requests == loras  # one header read per LoRA file (small headers: one Range each)
    before = snapshot_text(root)
    second = run_check(root, now=T2)
    assert not second.written
    assert snapshot_text(root) == before
    assert served.range_requests == loras  # unchanged sha256: the second run reads no header
    assert json.loads(before)["links"][MOE_KEY]["sha256"]


def test_dead_link_exit_1_and_report_names_the_file(
    served: HubEmulator, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A removed file: exit 1 through main(), the report names the data file that holds the link."""
    served.remove_file("Kijai/WanVideo_comfy", MOE)
    report, report_json = root / "report.md", root / "report.json"
    code = main(
        ["--root", str(root), "check", "--attempts", "1", "--report", str(report), "--json", str(report_json)]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "missing_file" in out
    assert "data/loras/wan22-i2v-a14b-high-lightx2v-moe-distill.yaml" in out
    assert report.read_text() == out
    data = json.loads(report_json.read_text())
    assert data["exit_code"] == 1
    assert data["counts"]["missing_file"] == 1
    assert next(row for row in data["links"] if row["key"] == MOE_KEY)["status"] == "missing_file"


def test_moved_after_a_previous_run(served: HubEmulator, root: Path) -> None:
    """Run 1 records the sha256; after the file moves, run 2 reports the new path (exit 0: alive)."""
    run_check(root)
    served.move_file("Kijai/WanVideo_comfy", MOE, "LoRAs/" + MOE.rsplit("/", 1)[1])
    outcome = run_check(root, now=T2)
    fact = outcome.snapshot.links[MOE_KEY]
    assert (fact.status, fact.new_path) == ("moved", "LoRAs/" + MOE.rsplit("/", 1)[1])
    assert fact.verified_at == T2


def test_unverified_keeps_previous_facts(served: HubEmulator, root: Path) -> None:
    """A run where every model_info fails: exit 3, nothing dead, the error in the report only."""
    run_check(root)
    before = (root / "data" / "hub-snapshot.json").read_bytes()
    served.inject("model_info", *[Fault("503")] * 100)
    outcome = run_check(root, now=T2)
    assert outcome.exit_code == 3
    assert not outcome.written
    assert (root / "data" / "hub-snapshot.json").read_bytes() == before
    row = next(row for row in outcome.rows if row.key == MOE_KEY)
    assert row.finding.status == "unverified"
    assert "503" in (row.finding.error or "")


@pytest.mark.usefixtures("served")
def test_an_unreachable_hub_leaves_the_snapshot_byte_identical(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: with a healthy snapshot, an outage exits 3 and rewrites nothing (no junk PR)."""
    run_check(root)
    before = (root / "data" / "hub-snapshot.json").read_bytes()
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert main(["--root", str(root), "check", "--hub-only", "--attempts", "1"]) == 3
    assert (root / "data" / "hub-snapshot.json").read_bytes() == before


def test_a_never_checked_link_stays_absent_when_unverified(served: HubEmulator, root: Path) -> None:
    """No previous facts and no verdict: nothing is recorded (the site says "not yet checked")."""
    served.inject("model_info", *[Fault("reset")] * 100)
    outcome = run_check(root)
    assert MOE_KEY not in outcome.snapshot.links
    assert next(row for row in outcome.rows if row.key == MOE_KEY).finding.status == "unverified"


def test_exit_3_through_main(served: HubEmulator, root: Path) -> None:
    """Only unverified problems: exit 3."""
    served.inject("model_info", *[Fault("500")] * 100)
    assert main(["--root", str(root), "check", "--attempts", "1", "--dry-run"]) == 3


@pytest.mark.usefixtures("served")
def test_dry_run_writes_nothing(root: Path) -> None:
    """--dry-run reports but leaves data/ alone."""
    assert main(["--root", str(root), "check", "--dry-run"]) == 0
    assert not (root / "data" / "hub-snapshot.json").exists()


def test_data_error_exit_2(served: HubEmulator, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Broken data: the problems as path:line:col, exit 2, no Hub call."""
    (root / "data" / "loras" / "fusionx-t2v-14b.yaml").write_text("id: fusionx-t2v-14b\nbogus: 1\n")
    assert main(["--root", str(root), "check"]) == 2
    assert "data/loras/fusionx-t2v-14b.yaml:" in capsys.readouterr().out
    assert served.counts["model_info"] == 0


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def test_changed_since_checks_only_changed_entries(served: HubEmulator, root: Path) -> None:
    """--changed-since REF: only the links of data files changed since REF; a bad ref is exit 2."""
    git(root, "init", "-q")
    git(root, "add", "data")
    git(root, "commit", "-q", "-m", "seed")
    lora = root / "data" / "loras" / "wan22-i2v-a14b-high-lightx2v-moe-distill.yaml"
    text = lora.read_text()
    assert "only high" in text
    lora.write_text(text.replace("only high", "only the high"))
    outcome = run_check(root, changed_since="HEAD")
    assert [row.key for row in outcome.rows] == [MOE_KEY]
    assert served.counts["model_info"] == 1
    assert main(["--root", str(root), "check", "--changed-since", "no-such-ref"]) == 2


def row(status: str, key: str, **facts: object) -> Row:
    finding = Finding(status, **facts)  # type: ignore[arg-type]
    return Row(key, key, f"https://huggingface.co/{key}", ("data/loras/x.yaml",), finding)


def test_report_order_and_summary() -> None:
    """Dead first, then moved/renamed, gated, unverified; a summary line with counts."""
    rows = [
        row("unverified", "a/u", error="HTTP 503"),
        row("gated", "a/g", gated="manual"),
        row("renamed", "a/r", new_repo="b/r"),
        row("missing_repo", "a/d"),
        row("ok", "a/ok"),
        row("moved", "a/m", new_path="x/y.safetensors"),
    ]
    text = markdown(rows, checked_at=T1)
    assert "6 links checked: 1 ok, 1 dead, 2 moved/renamed, 1 gated, 1 unverified" in text
    order = [text.index(f"`a/{name}`") for name in ("d", "m", "r", "g", "u")]
    assert order == sorted(order)
    assert "a/ok" not in text
    assert "now at `x/y.safetensors`" in text


def test_report_is_capped() -> None:
    """Thousands of dead links stay under 60,000 characters, with a note on what was left out."""
    rows = [row("missing_file", f"org/repo/{'x' * 80}{i:05}.safetensors") for i in range(3000)]
    text = markdown(rows, checked_at=T1)
    assert len(text) < MARKDOWN_LIMIT
    assert "more link(s) not shown" in text


def test_atomic_write_survives_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write failing before the rename (fsync raising) leaves the old file whole and no temp file."""
    path = tmp_path / "hub-snapshot.json"
    save_snapshot(path, Snapshot(checked_at=T1))

    def broken_fsync(_fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk gone"):
        save_snapshot(path, Snapshot(checked_at=T2))
    assert load_snapshot(path).checked_at == T1
    assert [p.name for p in tmp_path.iterdir()] == ["hub-snapshot.json"]


_WRITER = """
import datetime as dt
import sys
from pathlib import Path
from generator.catalog.snapshot import LinkFact, Snapshot
from generator.hub.merge import save_snapshot
path = Path(sys.argv[1])
for n in range(10**6):
    at = (dt.datetime(2026, 1, 1) + dt.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    links = {f"url:https://e.org/{i}": LinkFact(status="ok", checked_at=at) for i in range(3000)}
    save_snapshot(path, Snapshot(checked_at=at, links=links))
    print(n, flush=True)
"""


@pytest.mark.slow  # kills a writer process many times over
def test_snapshot_survives_sigkill_mid_write(tmp_path: Path) -> None:
    """A writer killed with SIGKILL at random moments always leaves a snapshot that loads."""
    path = tmp_path / "hub-snapshot.json"
    save_snapshot(path, Snapshot(checked_at=T1))
    rng = random.Random(3)  # noqa: S311 - kill times, not secrets
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE,
                                cwd=Path(__file__).parent.parent)  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdout.readline().strip().isdigit()  # at least one full write happened
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert load_snapshot(path).checked_at is not None
    assert load_snapshot(path).checked_at != T1  # the writers did write


def test_a_task_that_fails_unexpectedly_leaves_its_links_unverified() -> None:
    """An exception nobody foresaw in one task marks that task's links unverified; the run goes on."""
    from concurrent.futures import Future

    from generator.hub.check import _result

    future: Future[dict[str, object]] = Future()
    future.set_exception(RuntimeError("surprise"))
    found = _result(future, ("hf:repo:a/b", "hf:file:a/b/c"))  # type: ignore[arg-type]
    assert set(found) == {"hf:repo:a/b", "hf:file:a/b/c"}
    assert {f.status for f in found.values()} == {"unverified"}
    assert "RuntimeError: surprise" in (found["hf:repo:a/b"].error or "")


# --- issue 26, point 6: overlapping runs and faults ---------------------------------------------------------


def test_a_second_check_stops_while_one_holds_data(
    served: HubEmulator, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two checks at once lost data: the one that finished last wrote its older view over the other's facts.
    Now the run that writes holds an exclusive lock on data/ from reading the snapshot to writing it; a second
    run stops at once (exit 2, saying why), a dry run is not stopped, and the first run's facts are all kept."""
    served.inject("model_info", Fault("slow", seconds=2.0))
    first = threading.Thread(target=lambda: results.append(run_check(root, T1)))
    results: list[object] = []
    first.start()
    deadline = time.monotonic() + 10
    while (
        not served.counts["model_info"] and time.monotonic() < deadline
    ):  # it asks the Hub: it holds the lock
        time.sleep(0.01)
    assert main(["--root", str(root), "check", "--hub-only"]) == 2
    assert "another check is running in this project" in capsys.readouterr().err
    assert main(["--root", str(root), "check", "--hub-only", "--dry-run"]) == 0  # reads, writes nothing
    first.join(timeout=60)
    assert len(results) == 1
    assert load_snapshot(root / "data" / "hub-snapshot.json") == results[0].snapshot  # type: ignore[attr-defined]
    with exclusive(root / "data"):  # released when the run ended
        pass


_KILLED_WRITER = """
import sys
from pathlib import Path
from generator.files import write_atomic
write_atomic(Path(sys.argv[1]), "x" * 50_000_000)
"""


@pytest.mark.usefixtures("served")
def test_a_killed_runs_temporary_file_is_ignored_by_git_and_removed_by_the_next_check(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed mid-write left data/.hub-snapshot.json.*.tmp, which git did not ignore and nothing removed."""
    path = root / "data" / "hub-snapshot.json"
    for _ in range(10):  # until a kill lands mid-write (a write may also end before the kill)
        path.unlink(missing_ok=True)
        writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(f.stat().st_size for f in temporary_files(path)):
            time.sleep(0.001)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if temporary_files(path):
            break
    (left,) = temporary_files(path)
    assert left.stat().st_size > 0
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "-q", f"data/{left.name}"], check=False
    )
    assert ignored.returncode == 0, "git ignores what a killed write leaves"
    assert main(["--root", str(root), "check", "--hub-only"]) == 0
    assert temporary_files(path) == []
    assert "removed 1 temporary file(s) that killed runs left in data/" in capsys.readouterr().err


def _check_command(root: Path, reports: Path) -> list[str]:
    command = [sys.executable, "-m", "generator", "--root", str(root), "check", "--hub-only"]
    return [*command, "--report", str(reports / "report.md"), "--json", str(reports / "report.json")]


def _run(command: list[str], preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # preexec_fn: limits must be set in the child, before it runs
        command, capture_output=True, text=True, cwd=ROOT, preexec_fn=preexec, check=False, timeout=120
    )


def _small_files() -> None:
    """In the child: files may not grow past 60,000 bytes; the kernel refuses the write, as a full disk does."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))


def _read_only(folder: Path, command: list[str]) -> list[str] | None:
    """command run with folder read-only: a read-only bind mount in a namespace of its own (root passes any
    permission check), else the folder's write bits removed; None when neither can be had here."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False).returncode == 0:
        script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
        return ["unshare", "-rm", "sh", "-c", script, "sh", str(folder), *command]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    return None


@pytest.mark.usefixtures("served")
def test_a_full_disk_names_the_file_and_keeps_the_report(root: Path, tmp_path: Path) -> None:
    """A write that the disk refuses ended in 'internal error; please report it' and lost the --report file.
    Now the report is printed and written, the message names the snapshot and the cause, and the exit status
    is 4; nothing half-written is left behind."""
    reports = tmp_path / "reports"
    done = _run(_check_command(root, reports), _small_files)
    assert done.returncode == 4, done.stderr
    assert "internal error" not in done.stderr
    assert "check: data/hub-snapshot.json: File too large: the snapshot was not written" in done.stderr
    assert (reports / "report.md").read_text(encoding="utf-8") == done.stdout
    assert json.loads((reports / "report.json").read_text(encoding="utf-8"))["exit_code"] == 0
    assert sorted(p.name for p in (root / "data").iterdir() if p.name.startswith(".")) == []
    assert not (root / "data" / "hub-snapshot.json").exists()


@pytest.mark.usefixtures("served")
def test_a_read_only_data_folder_names_the_file_and_keeps_the_report(root: Path, tmp_path: Path) -> None:
    """A data/ the check may not write into: exit 4 naming data/hub-snapshot.json and the cause; the report is
    written where it can be."""
    reports = tmp_path / "reports"
    command = _read_only(root / "data", _check_command(root, reports))
    if command is None:
        pytest.skip("no way to make a folder read-only for root here (no user namespaces)")
    try:
        done = _run(command)
    finally:
        (root / "data").chmod(0o755)
    assert done.returncode == 4, done.stderr
    causes = ("Read-only file system", "Permission denied")
    assert any(
        f"check: data/hub-snapshot.json: {cause}: the snapshot was not written" in done.stderr
        for cause in causes
    )
    assert (reports / "report.md").read_text(encoding="utf-8") == done.stdout
    assert not (root / "data" / "hub-snapshot.json").exists()


def test_a_file_error_in_any_stage_names_the_file_and_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    """Any stage: a file the system refuses is named with the cause (exit 4), never 'internal error'."""
    assert main(["schema", "--out", "/proc/no-such-folder"]) == 4
    assert capsys.readouterr().err.startswith("schema: /proc/no-such-folder: ")
