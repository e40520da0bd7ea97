"""Issue 10, the Hub half: hostile answers never crash, hang, flood or kill good links.

Every test runs the real check (huggingface_hub client, requests, the thread pool) against the emulator,
with a repo owner who misbehaves: malformed safetensors headers, malformed model-info answers, a body
trickled a byte at a time, a RateLimit reset of 11 days, endless 429s, a server ignoring Range.
Limits are scaled down (seconds instead of minutes) so that the suite stays fast; the defaults are
measured by ``bench/bench_hostile.py``.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.catalog.snapshot import Snapshot, facts_of, load_snapshot, unreadable_of
from generator.catalog.validate import Catalog, load_catalog
from generator.hub.check import CheckOptions, Outcome
from generator.hub.client import LimitExceeded, Limits, make_api, read_range
from generator.hub.findings import Finding
from generator.hub.merge import merge_snapshot, save_snapshot
from generator.hub.pacing import Pacer, Timer
from generator.hub.report import Row, markdown
from generator.hub.retry import RetryPolicy
from generator.hub.urls import UrlChecker
from tests.catalog_scenario import populate
from tests.checking import FAST, T1, T2, run_check
from tests.hub_emulator import Fault, Hostility, HubEmulator, make_safetensors_header

pytestmark = pytest.mark.slow  # every test runs the check on the emulator or starts a misbehaving server
HOSTILE = replace(
    FAST,
    policy=replace(FAST.policy, max_server_wait=0.5),
    limits=Limits(total=2.0, max_bytes=2_000_000),
    deadline=60.0,
)
"""The shared fast options with a hostile server's limits scaled down: 2 s and 2 MB a request, 0.5 s of Retry-After."""
FUSIONX_REPO = "vrgamedevgirl84/Wan14BT2VFusioniX"
VICTIM = "fusionx-t2v-14b"  # the LoRA whose file a test makes hostile


@pytest.fixture(name="root")
def _root(catalog_root: Path) -> Path:
    return catalog_root


@pytest.fixture(name="catalog")
def _catalog(root: Path) -> Catalog:
    return load_catalog(root / "data", root)


def _run(root: Path, options: CheckOptions = HOSTILE, now: str = T1) -> Outcome:
    return run_check(root, now, options=options, hub_only=True)


def _statuses(outcome: Outcome) -> dict[str, str]:
    return {row.key: row.finding.status for row in outcome.rows}


def _header(body: bytes) -> bytes:
    return struct.pack("<Q", len(body)) + body


# --- item 2: malformed safetensors headers are unreadable, the run goes on -----------------------------

MALFORMED = {
    "a JSON list": _header(b"[1, 2]"),
    "a tensor entry that is a string": _header(b'{"a": "BF16"}'),
    "shape 5": _header(b'{"a": {"dtype": "BF16", "shape": 5, "data_offsets": [0, 2]}}'),
    "dtype null": _header(b'{"a": {"dtype": null, "shape": [1], "data_offsets": [0, 2]}}'),
    "metadata that is a list": _header(b'{"__metadata__": ["x"]}'),
    "metadata holding null": _header(b'{"__metadata__": {"format": null}}'),
    "metadata holding a number": _header(b'{"__metadata__": {"ss_network_dim": 64}}'),
    "an integer of 5,000 digits": _header(b'{"a": {"dtype": "BF16", "shape": [' + b"9" * 5000 + b"]}}"),
    "a dimension beyond 2**53": _header(b'{"a": {"dtype": "BF16", "shape": [9007199254740993]}}'),
    "a header nested 100,000 deep": _header(b"[" * 100_000 + b"]" * 100_000),
    "metadata only, 30 MB long": struct.pack("<Q", 30_000_000) + b"{" + b" " * 1000,
}


@pytest.mark.parametrize("bad", sorted(MALFORMED))
def test_a_malformed_header_is_unreadable_and_the_others_keep_their_facts(
    bad: str, hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """The broken file is stored as unreadable with its reason; every other LoRA's facts are stored."""
    populate(hub, catalog, headers={VICTIM: MALFORMED[bad]})
    outcome = _run(root)
    assert outcome.exit_code == 0, outcome.rows
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    reason = unreadable_of(snapshot, catalog.lora(VICTIM))
    assert reason is not None
    assert reason.startswith("not a readable safetensors header"), reason
    assert "\n" not in reason
    assert "\x1b" not in reason
    others = [lora for lora in catalog.loras if lora.id != VICTIM]
    assert all(facts_of(snapshot, lora) is not None for lora in others)


def test_a_tensor_name_with_control_characters_never_reaches_the_snapshot(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """Tensor names are untrusted: one that is no LoRA key is only counted, never stored or printed."""
    odd = {"\x1b[31m\n::error::x\u202e": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}
    populate(hub, catalog, headers={VICTIM: make_safetensors_header(odd)})
    assert _run(root).exit_code == 0
    text = (root / "data" / "hub-snapshot.json").read_text(encoding="utf-8")
    assert "::error" not in text
    facts = facts_of(load_snapshot(root / "data" / "hub-snapshot.json"), catalog.lora(VICTIM))
    assert facts is not None
    assert facts.unmatched_keys == 1


# --- item 5: an answer lacking what we need is unverified, never dead ----------------------------------


def _rewrite_siblings(change: Callable[[list[dict[str, Any]]], Any]) -> Hostility:
    return Hostility(info=lambda info: {**info, "siblings": change(info["siblings"])})


def _first(siblings: list[dict[str, Any]], **values: Any) -> list[dict[str, Any]]:
    return [{**siblings[0], **values}, *siblings[1:]]


SIBLING_TRICKS: dict[str, Hostility] = {
    "no siblings": Hostility(info=lambda info: {k: v for k, v in info.items() if k != "siblings"}),
    "siblings null": _rewrite_siblings(lambda _siblings: None),
    "a size that is a string": _rewrite_siblings(lambda siblings: _first(siblings, size="1234")),
    "a sha256 with a newline": _rewrite_siblings(
        lambda siblings: _first(siblings, lfs={**siblings[0]["lfs"], "sha256": "ab\n" * 21 + "a"})
    ),
    "a path leaving the repo": _rewrite_siblings(
        lambda siblings: _first(siblings, rfilename=f"../../other/{siblings[0]['rfilename']}")
    ),
    "siblings that are strings": _rewrite_siblings(lambda _siblings: ["x.safetensors"]),
    "a path that is a number": _rewrite_siblings(
        lambda siblings: [{**s, "rfilename": 12345} for s in siblings]
    ),
    "a look-alike repo id": Hostility(
        info=lambda info: {**info, "id": "vrgamedevgirl84/Wan14BT2VFusion\u0456X"}
    ),
    "an odd gated flag": Hostility(info=lambda info: {**info, "gated": "yes"}),
    "a commit that is not hex": Hostility(info=lambda info: {**info, "sha": "HEAD\n"}),
}


@pytest.mark.parametrize("trick", sorted(SIBLING_TRICKS))
def test_a_malformed_model_info_leaves_the_links_unverified_not_dead(
    trick: str, hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """15 links became missing_file on a 200 without siblings; now nothing is dead, the run exits 3."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, SIBLING_TRICKS[trick])
    outcome = _run(root)
    statuses = _statuses(outcome)
    victims = {key: status for key, status in statuses.items() if FUSIONX_REPO in key}
    assert "unverified" in victims.values()
    assert not {"missing_file", "missing_repo", "moved", "renamed"} & set(victims.values()), victims
    assert outcome.exit_code == 3
    assert {status for key, status in statuses.items() if FUSIONX_REPO not in key} == {"ok"}
    errors = {row.finding.error for row in outcome.rows if row.finding.status == "unverified"}
    assert all(error and error.startswith("the Hub's answer is malformed") for error in errors), errors
    load_snapshot(root / "data" / "hub-snapshot.json")  # what was written is valid


@pytest.mark.parametrize("trick", ["a size that is a string", "a sha256 with a newline"])
def test_one_sibling_with_odd_facts_leaves_only_its_own_link_unverified(
    trick: str, hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """Issue 26, point 4: one sibling with a size or sha256 out of format made every link of the repo
    unverified; now each listed file is judged on its own, and the repo's other files stay verified."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, SIBLING_TRICKS[trick])
    outcome = _run(root)
    victims = sorted(
        status for key, status in _statuses(outcome).items() if f"hf:file:{FUSIONX_REPO}/" in key
    )
    assert victims == ["ok"] * (len(victims) - 1) + ["unverified"], victims
    assert len(victims) >= 3
    assert outcome.exit_code == 3


def test_a_moved_target_outside_the_repo_is_never_fetched(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """A file 'moved' to ../ would send the header request (with the token) elsewhere: it is not followed."""
    populate(hub, catalog)
    _run(root)
    lora = catalog.lora(VICTIM)
    sha = (
        load_snapshot(root / "data" / "hub-snapshot.json")
        .links[f"hf:file:{lora.file.repo}/{lora.file.path}"]
        .sha256
    )
    hub.make_hostile(
        FUSIONX_REPO,
        _rewrite_siblings(
            lambda siblings: [
                {**s, "rfilename": f"../evil/{s['rfilename']}"}
                if s.get("lfs", {}).get("sha256") == sha
                else s
                for s in siblings
            ]
        ),
    )
    hub.counts.clear()
    outcome = _run(root, now=T2)
    assert _statuses(outcome)[f"hf:file:{lora.file.repo}/{lora.file.path}"] == "unverified"
    assert hub.counts["resolve"] == 0


# --- item 3: nothing a server says can make the run hang --------------------------------------------------


def test_a_rate_limit_reset_of_eleven_days_is_capped(hub: HubEmulator, root: Path, catalog: Catalog) -> None:
    """A 200 carrying RateLimit r=0;t=999999 put every worker to sleep for 11.6 days; now max_server_wait."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, Hostility(headers={"RateLimit": '"api";r=0;t=999999'}))
    started = time.monotonic()
    outcome = _run(root)
    assert time.monotonic() - started < 30
    assert set(_statuses(outcome).values()) == {"ok"}


def test_the_pacer_believes_a_reset_time_only_up_to_its_cap() -> None:
    """The pacer's wait after a used-up budget is the server's reset, capped (fake clock)."""
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = Pacer("http://hub", timer=Timer(lambda: clock[0], sleep), max_wait=60.0)
    pacer.acquire()
    from generator.hub.client import RateLimitInfo

    pacer.observe(
        RateLimitInfo(
            resource_type="api", remaining=0, reset_in_seconds=999_999, limit=500, window_seconds=300
        )
    )
    pacer.release()
    pacer.acquire()
    assert slept == [60.0]


def test_a_trickled_body_ends_at_the_request_limit(hub: HubEmulator, root: Path, catalog: Catalog) -> None:
    """A model-info body sent a byte every 0.2 s never tripped the read timeout; now it is cut at 2 s."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, Hostility(trickle_info=0.2))
    started = time.monotonic()
    outcome = _run(root)
    assert time.monotonic() - started < 20
    victims = [row.finding for row in outcome.rows if FUSIONX_REPO in row.key]
    assert {finding.status for finding in victims} == {"unverified"}
    assert all("took longer than 2 s" in (finding.error or "") for finding in victims)
    assert outcome.exit_code == 3


def test_a_trickled_file_header_is_unverified_and_read_again_next_run(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """A file whose bytes trickle is not marked unreadable: a limit is no verdict on the file."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, Hostility(trickle_files=0.2))
    first = _run(root)
    assert first.exit_code == 0  # the links are fine; only the headers could not be read
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    victim = catalog.lora(VICTIM)
    assert facts_of(snapshot, victim) is None
    assert unreadable_of(snapshot, victim) is None
    assert any("took longer than 2 s" in warning.message for warning in first.warnings)
    hub.make_hostile(FUSIONX_REPO, Hostility())
    _run(root, now=T2)
    assert facts_of(load_snapshot(root / "data" / "hub-snapshot.json"), victim) is not None


def test_endless_429s_end_at_the_run_deadline_and_keep_the_last_good_facts(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """Steady 429s with a long Retry-After: the run stops at its deadline, the snapshot keeps the facts."""
    populate(hub, catalog)
    healthy = _run(root)
    assert healthy.exit_code == 0
    before = load_snapshot(root / "data" / "hub-snapshot.json")
    hub.inject("model_info", *[Fault("429", retry_after=3600)] * 500)
    options = replace(HOSTILE, deadline=3.0, policy=replace(HOSTILE.policy, attempts=50, max_server_wait=1.0))
    started = time.monotonic()
    outcome = _run(root, options, now=T2)
    took = time.monotonic() - started
    assert took < 3.0 + 2 * options.limits.total, took
    assert outcome.exit_code == 3
    assert load_snapshot(root / "data" / "hub-snapshot.json") == before  # the last good facts, untouched


# --- item 6: bounded memory ---------------------------------------------------------------------------------


def test_a_huge_model_info_is_cut_at_the_byte_limit(hub: HubEmulator, root: Path, catalog: Catalog) -> None:
    """A model-info answer padded past the limit is unverified, read no further than the limit."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, Hostility(pad_info=5_000_000))
    outcome = _run(root)
    victims = [row.finding for row in outcome.rows if FUSIONX_REPO in row.key]
    assert {finding.status for finding in victims} == {"unverified"}
    assert all("larger than 2,000,000 bytes" in (finding.error or "") for finding in victims)


def test_a_server_ignoring_range_is_read_only_up_to_the_header(hub: HubEmulator) -> None:
    """The header of a 1 GiB file served whole (200, Range ignored) costs its own bytes, not the file's."""
    hub.add_repo("owner/big")
    header = make_safetensors_header({"a": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}})
    hub.add_lfs_file("owner/big", "x.safetensors", size=2**30, header=header)
    hub.make_hostile("owner/big", Hostility(ignore_range=True))
    api = make_api(limits=Limits(max_bytes=1_000_000))
    answer = read_range(api, "owner/big", "x.safetensors", None, 0, 100_000)
    assert (answer.status, answer.data[: len(header)]) == (200, header)
    assert len(answer.data) == 100_000
    tail = read_range(api, "owner/big", "x.safetensors", None, 90_000, 20_000)
    assert tail.data == bytes(20_000)


_RSS_CHECK = """
import resource, sys
from pathlib import Path
from generator.hub.check import CheckOptions, check_catalog
outcome = check_catalog(Path(sys.argv[1]), hub_only=True, options=CheckOptions(progress=False))
print(outcome.exit_code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.slow
def test_check_against_a_server_ignoring_range_on_a_1_gib_file_stays_under_200_mb(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """The real `check` in its own process: peak RSS under 200 MB (it was 2.16 GB for a 1 GiB body)."""
    populate(hub, catalog)
    lora = catalog.lora(VICTIM)
    header = make_safetensors_header({"a": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}})
    hub.add_lfs_file(lora.file.repo, lora.file.path, size=2**30, header=header)
    hub.make_hostile(FUSIONX_REPO, Hostility(ignore_range=True))
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHECK, str(root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=300,
    )
    code, rss_mb = map(int, done.stdout.split())
    assert code == 0, done.stderr
    print(f"peak RSS of check: {rss_mb} MB")
    assert rss_mb < 200, rss_mb


# --- requests that trickle their headers (httpx2 and requests alike) -------------------------------------


def _serving(server: socket.socket, answer: Callable[[socket.socket], None]) -> None:
    """Accept connections on server until it closes, each answered by answer in its own thread."""

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()


@pytest.fixture(name="trickler")
def _trickler() -> Iterator[str]:
    """An HTTP server that sends its status line and headers one byte every 0.2 s, forever."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes((byte,)))
                except OSError:
                    return
                time.sleep(0.2)

    _serving(server, drip)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/page"
    stop.set()
    server.close()


def test_trickled_headers_end_at_the_limit_for_hub_requests(trickler: str) -> None:
    """httpx2's read timeout is per read; the request budget bounds the whole answer."""
    from huggingface_hub.utils._http import get_session

    make_api(limits=Limits(total=1.0))
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="took longer than 1 s"):
        get_session().get(trickler, timeout=30)
    assert time.monotonic() - started < 3


def test_trickled_headers_end_at_the_limit_for_plain_links(trickler: str) -> None:
    """A plain https probe (requests) gives up after the limit too, and says why."""
    checker = UrlChecker(RetryPolicy(attempts=1, timeout=30.0), Limits(total=1.0))
    started = time.monotonic()
    finding = checker.check(trickler)
    assert time.monotonic() - started < 3
    assert (finding.status, finding.error) == ("unverified", "no answer within 1 s")


@pytest.fixture(name="odd_status")
def _odd_status() -> Iterator[str]:
    """An HTTP server answering every request with status 999 and a hostile reason phrase."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 999 [x](javascript:alert(1))\r\nContent-Length: 0\r\n\r\n")

    _serving(server, answer)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/page"
    server.close()


def test_an_odd_status_is_recorded_not_a_crash(odd_status: str, tmp_path: Path) -> None:
    """Any three-digit status a server sends becomes a valid snapshot fact (unverified, never dead)."""
    finding = UrlChecker(RetryPolicy(attempts=1)).check(odd_status)
    assert (finding.status, finding.http_status) == ("unverified", 999)
    snapshot = merge_snapshot(Snapshot(), {"url:https://example.org/page": finding}, T1, prune=True)
    save_snapshot(tmp_path / "snapshot.json", snapshot)
    assert load_snapshot(tmp_path / "snapshot.json") == snapshot


def test_a_servers_words_reach_the_report_as_inert_text(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """An error message with Markdown, a mention and a workflow command stays one code span on one line."""
    populate(hub, catalog)
    words = "no [x](javascript:alert(1)) @lora-alchemy/maintainers `\n::error::forged"
    hub.inject("model_info", *[Fault("answer", status=403, body={"error": words})] * 50)
    outcome = _run(root)
    text = markdown(outcome.rows, checked_at=outcome.checked_at, warnings=outcome.warnings)
    lines = [line for line in text.splitlines() if "javascript" in line]
    assert lines
    assert not any(line.startswith("::") for line in text.splitlines())
    span = "``HTTP 403: no [x](javascript:alert(1)) @lora-alchemy/maintainers `\\n::error::forged``"
    assert all(span in line for line in lines), lines  # one code span: no link, no mention, no command


def test_a_compressed_answer_is_refused_before_it_is_decoded(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """A gzip body decoding to 50 MB passed the 2 MB cap (wire bytes); now it is refused unread."""
    populate(hub, catalog)
    hub.make_hostile(FUSIONX_REPO, Hostility(pad_info=50_000_000, gzip_info=True))
    outcome = _run(root)
    victims = [row.finding for row in outcome.rows if FUSIONX_REPO in row.key]
    assert {finding.status for finding in victims} == {"unverified"}
    assert all("compressed (gzip)" in (finding.error or "") for finding in victims)
    assert {row.finding.status for row in outcome.rows if FUSIONX_REPO not in row.key} == {"ok"}


@pytest.fixture(name="silent")
def _silent() -> Iterator[str]:
    """A server that accepts connections and never says a word (a TLS handshake waits forever)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    _serving(server, held.append)
    yield f"https://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


def test_a_tls_handshake_that_never_ends_ends_at_the_limit(
    silent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """huggingface_hub passes no timeout to user overviews: a stalled handshake hung `check` for good."""
    monkeypatch.setenv("HF_ENDPOINT", silent)
    api = make_api(limits=Limits(total=1.0))
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="took longer than 1 s"):
        api.get_user_overview("someone")
    assert time.monotonic() - started < 3


@pytest.fixture(name="redirect_bomb")
def _redirect_bomb() -> Iterator[tuple[str, list[int]]]:
    """HEAD is refused; GET /page answers 302 with a 200 MB body; GET /final answers 200."""
    server = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536).decode("latin-1")
            if request.startswith("HEAD"):
                conn.sendall(b"HTTP/1.1 405 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif " /final " in request:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                size = 200_000_000
                head = f"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: {size}\r\n\r\n"
                conn.sendall(head.encode())
                total = 0
                try:
                    while total < size:
                        total += conn.send(bytes(1 << 20))
                except OSError:
                    pass
                sent.append(total)

    _serving(server, answer)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/page", sent
    server.close()


def test_a_redirect_body_is_never_read(redirect_bomb: tuple[str, list[int]]) -> None:
    """requests read every redirect's body in full (gigabytes for a bomb); redirects are now followed unread."""
    url, sent = redirect_bomb
    finding = UrlChecker(RetryPolicy(attempts=1, timeout=10.0)).check(url)
    assert (finding.status, finding.http_status) == ("ok", 200)
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sent, "the server never noticed the client leave"
    assert sent[0] < 20_000_000, sent  # what socket buffers took in, not the 200 MB body


def test_a_url_cannot_rewrite_the_report() -> None:
    """A URL holding '>)' and Markdown cannot close the report's link and add its own."""
    url = "https://unreachable.invalid/>)**All_links_fine**[Get_it](https://phish.example/x)![](https://t.example/t.png)@octocat"
    finding = Finding("unverified", error="timeout")
    text = markdown([Row("url:" + url, url, url, ("data/x.yaml",), finding)], checked_at=T1)
    line = next(line for line in text.splitlines() if "unreachable.invalid" in line)
    target = line.split("`](", 1)[1]  # the link's destination, after the code span of its label
    assert target.startswith("https://unreachable.invalid/%3E%29**All_links_fine**%5BGet_it%5D%28https")
    assert target.split(")", 1)[1].startswith(" in `data/x.yaml`")  # the destination ends where ours does


# --- the combined hostile Hub (Done when) ------------------------------------------------------------------


def test_a_hostile_hub_combining_items_2_3_and_5_still_gives_a_valid_snapshot(
    hub: HubEmulator, root: Path, catalog: Catalog
) -> None:
    """Malformed header + endless RateLimit reset + trickle + missing siblings, in one run.

    The run finishes (exit 0/1/3, never 2), keeps every healthy link's result and header facts, and the
    snapshot it leaves loads.
    """
    populate(hub, catalog)
    healthy = _run(root)
    assert healthy.exit_code == 0
    before = load_snapshot(root / "data" / "hub-snapshot.json")
    broken = catalog.lora("fastwan-t2v-14b-480p-rank128").file
    hub.add_lfs_file(broken.repo, broken.path, size=4096, sha256="ab" * 32, header=MALFORMED["shape 5"])
    hub.make_hostile(FUSIONX_REPO, Hostility(trickle_info=0.3, headers={"RateLimit": '"api";r=0;t=999999'}))
    hub.make_hostile("Kijai/WanVideo_comfy_fp8_scaled", SIBLING_TRICKS["no siblings"])
    hub.inject("model_info", *[Fault("429", retry_after=999_999)] * 3)
    # 4 attempts: the three 429s cannot make any one repo unverified, whichever requests they hit
    options = replace(HOSTILE, policy=replace(HOSTILE.policy, attempts=4))
    started = time.monotonic()
    outcome = _run(root, options, now=T2)
    assert time.monotonic() - started < 60
    assert outcome.exit_code in (0, 1, 3)
    after = load_snapshot(root / "data" / "hub-snapshot.json")
    statuses = _statuses(outcome)
    assert "unverified" in statuses.values()
    for key, status in statuses.items():
        assert status in ("unverified", before.links[key].status), key
        assert after.links[key].status == before.links[key].status  # last good facts kept
    fastwan = catalog.lora("fastwan-t2v-14b-480p-rank128")
    assert (unreadable_of(after, fastwan) or "").startswith("not a readable safetensors header")
    kept = [lora for lora in catalog.loras if lora != fastwan]
    lost = [lora.id for lora in kept if not facts_of(after, lora) == facts_of(before, lora) is not None]
    assert lost == [], (lost, statuses)
    assert json.loads((root / "data" / "hub-snapshot.json").read_text())["format"] == 1
