"""generator.hub against the local Hub emulator with the real huggingface_hub client: every status class."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from generator.catalog.models import HfLink
from generator.catalog.snapshot import DEAD, link_key
from generator.hub.client import make_api
from generator.hub.findings import Finding
from generator.hub.pacing import Pacer, Timer, observing
from generator.hub.repos import HubChecker, RepoQuery
from generator.hub.retry import Retrier, RetryPolicy
from generator.hub.urls import UrlChecker
from generator.settings import Settings
from tests.hub_emulator import Fault, FaultKind, HubEmulator

REPO = "Kijai/WanVideo_comfy"
LORA = "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors"
OLD_LORA = "LoRAs/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors"
LORA_SHA256 = "0185333b558fc50ed2389b65a204e6a2cec5cf4c235ec627a3fe577cc7e9cd74"
LORA_SIZE = 630_697_104
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, timeout=0.5)


class FakeClock:
    """A monotonic clock that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    @property
    def timer(self) -> Timer:
        return Timer(self.monotonic, self.sleep)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fresh fake clock; the retry library's waits (tenacity's nap) advance it instead of sleeping."""
    fake = FakeClock()
    monkeypatch.setattr("tenacity.nap.time", SimpleNamespace(sleep=fake.sleep))
    return fake


@pytest.fixture
def checker(hub: HubEmulator, clock: FakeClock) -> Iterator[HubChecker]:
    """A HubChecker on the emulator (emptied for the test) with fast retries, a fake clock and a pacer fed by
    RateLimit headers."""
    api = make_api(Settings(HF_ENDPOINT=hub.endpoint))
    pacer = Pacer(api.endpoint, timer=clock.timer)
    with observing(pacer):
        yield HubChecker(api, Retrier(FAST, pacer=pacer))


@pytest.fixture
def kijai(hub: HubEmulator) -> HubEmulator:
    """The emulator holding the real MoE distill LoRA (real size and sha256, hub-api.md §12) and a README."""
    hub.add_repo(REPO, sha="8260d429d19fd7a72304cad059160b95d843913f")
    hub.add_lfs_file(REPO, LORA, size=LORA_SIZE, sha256=LORA_SHA256)
    hub.add_small_file(REPO, "README.md", b"# WanVideo comfy\n")
    return hub


def file_link(path: str = LORA, repo: str = REPO) -> HfLink:
    return HfLink(kind="file", repo=repo, path=path)


def check_one(checker: HubChecker, link: HfLink, **query: Any) -> Finding:
    """Check a single link through the repo-group path."""
    return checker.check_repo(RepoQuery(link.repo, (link,), **query))[link_key(link)]


class TestVerdicts:
    """Each status class, from one model_info call."""

    @pytest.mark.usefixtures("kijai")
    def test_ok_file_has_size_sha256_and_commit(self, checker: HubChecker) -> None:
        """An existing LFS file: exact size, sha256 and the repo commit."""
        found = check_one(checker, file_link())
        assert found == Finding(
            "ok", size=LORA_SIZE, sha256=LORA_SHA256, commit="8260d429d19fd7a72304cad059160b95d843913f"
        )

    def test_one_call_for_all_links_of_a_repo(self, kijai: HubEmulator, checker: HubChecker) -> None:
        """Repo, folder, LFS file, small file and a missing file cost one model_info together."""
        links = (
            HfLink(kind="repo", repo=REPO),
            HfLink(kind="folder", repo=REPO, path="LoRAs/Wan22_Lightx2v"),
            HfLink(kind="folder", repo=REPO, path="LoRAs/Nope"),
            file_link(),
            file_link("README.md"),
            file_link("LoRAs/gone.safetensors"),
        )
        found = checker.check_repo(RepoQuery(REPO, links))
        expected = ["ok", "ok", "missing_file", "ok", "ok", "missing_file"]
        assert [found[link_key(link)].status for link in links] == expected
        assert found[link_key(file_link("README.md"))].size == len(b"# WanVideo comfy\n")
        assert kijai.counts == {"model_info": 1}

    def test_moved_file_found_by_previous_sha256(self, kijai: HubEmulator, checker: HubChecker) -> None:
        """A file gone from its path whose sha256 sits elsewhere is moved, with the new path (no extra call)."""
        kijai.move_file(REPO, LORA, OLD_LORA)
        found = check_one(checker, file_link(), known_sha256={LORA: LORA_SHA256})
        assert (found.status, found.new_path, found.size) == ("moved", OLD_LORA, LORA_SIZE)
        assert kijai.counts == {"model_info": 1}

    def test_moved_file_without_previous_sha256_is_missing(
        self, kijai: HubEmulator, checker: HubChecker
    ) -> None:
        """Without a previous sha256 a move cannot be told from a deletion."""
        kijai.move_file(REPO, LORA, OLD_LORA)
        assert check_one(checker, file_link()).status == "missing_file"

    def test_renamed_repo_reports_new_id_and_file_facts(
        self, kijai: HubEmulator, checker: HubChecker
    ) -> None:
        """The relative 307 is followed; the new id is reported and the file still measured."""
        kijai.rename_repo(REPO, "Kijai/WanVideo_comfy_v2")
        found = check_one(checker, file_link())
        assert (found.status, found.new_repo, found.sha256) == (
            "renamed",
            "Kijai/WanVideo_comfy_v2",
            LORA_SHA256,
        )

    def test_missing_file_in_renamed_repo_is_dead(self, kijai: HubEmulator, checker: HubChecker) -> None:
        """Dead beats renamed."""
        kijai.rename_repo(REPO, "Kijai/Other")
        found = check_one(checker, file_link("nope.safetensors"))
        assert (found.status, found.new_repo) == ("missing_file", "Kijai/Other")

    @pytest.mark.parametrize("mode", ["auto", "manual"])
    def test_gated(self, hub: HubEmulator, checker: HubChecker, mode: Any) -> None:
        """Gated repos answer 200 with the gate mode; their file facts are still known."""
        hub.add_repo("Wan-AI/Gated", gated=mode)
        digest = hub.add_lfs_file("Wan-AI/Gated", "a.safetensors", size=4096)
        found = check_one(checker, file_link("a.safetensors", "Wan-AI/Gated"))
        assert (found.status, found.gated, found.sha256) == ("gated", mode, digest)

    def test_missing_repo(self, checker: HubChecker) -> None:
        """An unknown repo (401 RepoNotFound for anonymous callers) is missing_repo."""
        assert check_one(checker, HfLink(kind="repo", repo="nobody/nothing")).status == "missing_repo"

    @pytest.mark.usefixtures("kijai")
    def test_missing_revision(self, checker: HubChecker) -> None:
        """RevisionNotFoundError maps to missing_revision."""
        assert check_one(checker, file_link(), revision="v9").status == "missing_revision"

    def test_disabled(self, hub: HubEmulator, checker: HubChecker) -> None:
        """A disabled repo (403 DisabledRepoError) is dead for every link into it."""
        hub.add_repo("bad/repo", disabled=True)
        assert check_one(checker, file_link("x.safetensors", "bad/repo")).status == "disabled"

    @pytest.mark.parametrize(("name", "org", "status"), [("alice", False, "ok"), ("acme", True, "ok")])
    def test_user_and_org(
        self, hub: HubEmulator, checker: HubChecker, name: str, org: bool, status: str
    ) -> None:
        """A user or an organisation page exists."""
        hub.add_user(name, org=org)
        assert checker.check_user(name).status == status

    def test_missing_user(self, checker: HubChecker) -> None:
        """Neither user nor org: missing_repo (the namespace is gone)."""
        assert checker.check_user("ghost").status == "missing_repo"


class TestTransientFaults:
    """Rate limits, server errors, resets, slow answers and bad JSON are retried, never dead."""

    @pytest.mark.parametrize("kind", ["429", "500", "503", "reset", "slow", "truncated_json"])
    def test_persistent_fault_is_unverified(
        self, kijai: HubEmulator, checker: HubChecker, kind: FaultKind
    ) -> None:
        """A fault on every attempt yields unverified with the reason, after exactly `attempts` calls."""
        kijai.inject("model_info", *[Fault(kind, seconds=1.0)] * FAST.attempts)
        found = check_one(checker, file_link())
        assert found.status == "unverified"
        assert found.status not in DEAD
        assert f"after {FAST.attempts} attempts" in (found.error or "")
        assert kijai.counts["model_info"] == FAST.attempts

    @pytest.mark.parametrize(
        ("fault", "least_wait"), [(Fault("429", retry_after=2), 2.0), (Fault("503"), 0.0)]
    )
    def test_one_transient_fault_is_retried_into_ok(
        self, kijai: HubEmulator, checker: HubChecker, clock: FakeClock, fault: Fault, least_wait: float
    ) -> None:
        """One 429 (waiting at least its Retry-After) or one 503, then the real answer."""
        kijai.inject("model_info", fault)
        found = check_one(checker, file_link())
        assert (found.status, found.sha256) == ("ok", LORA_SHA256)
        assert kijai.counts["model_info"] == 2
        assert max(clock.sleeps) >= least_wait

    def test_server_wait_is_capped(self, kijai: HubEmulator, clock: FakeClock) -> None:
        """A Retry-After of 11.6 days is waited only up to the policy's cap, then the call goes on."""
        kijai.inject("model_info", Fault("429", retry_after=1_000_000))
        capped = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, timeout=2.0, max_server_wait=3.0)
        found = HubChecker(make_api(), Retrier(capped)).check_repo(RepoQuery(REPO, (file_link(),)))
        assert found[link_key(file_link())].status == "ok"
        assert clock.sleeps == [3.0]

    def test_user_lookup_is_retried(self, hub: HubEmulator, checker: HubChecker) -> None:
        """User pages go through the same retry loop."""
        hub.add_user("alice")
        hub.inject("user", Fault("502"))
        assert checker.check_user("alice").status == "ok"


class TestPacing:
    """The pacer reads RateLimit headers and waits for the window instead of collecting 429s."""

    def test_budget_is_respected_without_429(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """20 repos through a budget of 8 calls per 1 s window: no 429, every repo ok."""
        with HubEmulator(rate_limit=8, window_seconds=1.0) as emu:
            monkeypatch.setenv("HF_ENDPOINT", emu.endpoint)
            repos = [f"org/repo{i}" for i in range(20)]
            for repo in repos:
                emu.add_repo(repo)
            api = make_api()
            pacer = Pacer(api.endpoint)
            hub_checker = HubChecker(api, Retrier(FAST, pacer=pacer))
            with observing(pacer):
                results = [
                    hub_checker.check_repo(RepoQuery(r, (HfLink(kind="repo", repo=r),))) for r in repos
                ]
            assert all(f.status == "ok" for found in results for f in found.values())
            assert emu.status_counts[429] == 0
            assert pacer.waited > 0

    def test_local_budget_without_headers(self, clock: FakeClock) -> None:
        """Without server headers the pacer counts its own calls against the documented budget."""
        pacer = Pacer("http://x", budget=3, window=10.0, timer=clock.timer)
        for _ in range(4):
            pacer.acquire()
            pacer.release()
        assert clock.sleeps == [10.0]


class _Scripted(BaseHTTPRequestHandler):
    """Answers from a per-path script: a list of (status for HEAD, status for GET) consumed in order."""

    protocol_version = "HTTP/1.1"
    script: ClassVar[dict[str, list[tuple[int, int]]]] = {}
    waits: ClassVar[dict[str, str]] = {}  # path -> Retry-After value sent with its 429/503 answers
    seen: ClassVar[list[tuple[str, str]]] = []  # (method, path) of every request

    def do_HEAD(self) -> None:
        self._answer(0)

    def do_GET(self) -> None:
        self._answer(1)

    def _answer(self, which: int) -> None:
        self.seen.append((self.command, self.path))
        steps = self.script.get(self.path) or [(404, 404)]
        status = (steps.pop(0) if len(steps) > 1 else steps[0])[which]
        self.send_response(status)
        self.send_header("Content-Length", "2")
        if status in (301, 302):
            self.send_header("Location", self.path)  # a redirect loop
        if status in (429, 503):
            self.send_header("Retry-After", self.waits.get(self.path, "0"))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """A local http server standing in for GitHub (the checker takes any URL; the catalog only https)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([(200, 200)], "ok"),
        ([(405, 200)], "ok"),
        ([(403, 200)], "ok"),
        ([(404, 404)], "missing_file"),
        ([(410, 410)], "missing_file"),
        ([(503, 503)], "unverified"),
        ([(429, 429), (200, 200)], "ok"),
        ([(502, 502), (200, 200)], "ok"),
        ([(401, 401)], "unverified"),
        ([(302, 302)], "unverified"),
    ],
)
@pytest.mark.usefixtures("clock")
def test_url_checks(web: str, steps: list[tuple[int, int]], status: str) -> None:
    """HEAD, GET fallback on 403/405/501, 404/410 dead, 429/5xx retried then unverified, others (401, a
    redirect loop) unverified."""
    path = f"/case{len(_Scripted.script)}"
    _Scripted.script[path] = list(steps)
    checker = UrlChecker(FAST)
    assert checker.check(web + path).status == status


@pytest.mark.usefixtures("clock")
def test_url_connection_refused_is_unverified() -> None:
    """Nobody listening: unverified, never dead."""
    checker = UrlChecker(FAST)
    found = checker.check("http://127.0.0.1:9/nothing")
    assert found.status == "unverified"
    assert "connection error" in (found.error or "")


def _script(steps: list[tuple[int, int]], wait: str | None = None) -> str:
    path = f"/case{len(_Scripted.script)}"
    _Scripted.script[path] = list(steps)
    if wait is not None:
        _Scripted.waits[path] = wait
    return path


def test_head_refused_with_501_goes_straight_to_get(web: str) -> None:
    """A server that does not implement HEAD (501) gets one HEAD and a GET, not a round of retries."""
    path = _script([(501, 200)])
    assert UrlChecker(FAST).check(web + path).status == "ok"
    assert [method for method, seen in _Scripted.seen if seen == path] == ["HEAD", "GET"]


@pytest.mark.parametrize(("wait", "least"), [("0.5", 0.5), ("soon", 0.0)])
def test_fractional_or_unreadable_retry_after_still_retries(web: str, wait: str, least: float) -> None:
    """A fractional Retry-After is waited; an unreadable one falls back to the backoff; both retry into ok."""
    path = _script([(503, 503), (200, 200)], wait)
    started = time.monotonic()
    assert UrlChecker(FAST).check(web + path).status == "ok"
    assert time.monotonic() - started >= least
    assert [method for method, seen in _Scripted.seen if seen == path] == ["HEAD", "HEAD"]


def test_url_read_timeout_says_timeout() -> None:
    """A server that accepts and never answers is 'timeout' after every attempt, not a connection error."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        policy = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=0.3)
        found = UrlChecker(policy).check(f"http://127.0.0.1:{silent.getsockname()[1]}/")
    assert found.status == "unverified"
    assert found.error == "timeout (after 2 attempts)"
    assert found.http_status is None
