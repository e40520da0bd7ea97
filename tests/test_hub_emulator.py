"""The Hub emulator speaks the protocol the real huggingface_hub 2.4.0 client expects (no mocks)."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="hub-emulator-hf-home-"))

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, RepoFile, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub_emulator import Fault, HubEmulator, make_safetensors_header

pytestmark = pytest.mark.slow  # starts its own emulator
REPO = "Kijai/WanVideo_comfy"
LORA = "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors"
LORA_SHA256 = "0185333b558fc50ed2389b65a204e6a2cec5cf4c235ec627a3fe577cc7e9cd74"
LORA_SIZE = 630_697_104
README = b"# WanVideo comfy\n"


@pytest.fixture(scope="module")
def server() -> Iterator[HubEmulator]:
    """One emulator for the module; ``emu`` resets it per test."""
    with HubEmulator() as emulator:
        yield emulator


@pytest.fixture
def emu(server: HubEmulator) -> HubEmulator:
    """A clean emulator holding REPO with one real-sized LoRA and a README."""
    server.reset()
    server.add_repo(REPO)
    server.add_lfs_file(REPO, LORA, size=LORA_SIZE, sha256=LORA_SHA256, header=_header(2))
    server.add_small_file(REPO, "README.md", README)
    return server


@pytest.fixture
def api(emu: HubEmulator) -> HfApi:
    """The real client, anonymous, pointed at the emulator."""
    return HfApi(endpoint=emu.endpoint, token=False)


def _header(tensors: int) -> bytes:
    """A safetensors prefix declaring ``tensors`` bf16 LoRA tensors."""
    entries = {
        f"blocks.{i}.lora_down.weight": {"dtype": "BF16", "shape": [64, 5120], "data_offsets": [0, 655360]}
        for i in range(tensors)
    }
    return make_safetensors_header({"__metadata__": {"format": "pt"}, **entries})


def _url(emu: HubEmulator, path: str, repo_id: str = REPO, revision: str | None = None) -> str:
    return hf_hub_url(repo_id, path, revision=revision, endpoint=emu.endpoint)


# ---------------------------------------------------------------------------- API JSON


def test_model_info_with_files_metadata(api: HfApi) -> None:
    info = api.model_info(REPO, files_metadata=True)
    assert info.id == REPO
    assert info.sha is not None
    assert len(info.sha) == 40
    assert info.gated is False
    assert info.disabled is False
    assert info.private is False
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert list(siblings) == [LORA, "README.md"]
    lora = siblings[LORA]
    assert lora.size == LORA_SIZE
    assert lora.lfs is not None
    assert lora.lfs.sha256 == LORA_SHA256
    assert lora.lfs.pointer_size == 134
    assert lora.blob_id == "2abf623313b4045c587651347a0c6939faf0ff52"  # real Hub value (hub-api.md §12)
    assert siblings["README.md"].size == len(README)
    assert siblings["README.md"].lfs is None


def test_model_info_without_files_metadata_has_no_sizes(api: HfApi) -> None:
    plain = api.model_info(REPO)
    assert plain.siblings is not None
    assert [(s.rfilename, s.size, s.lfs) for s in plain.siblings] == [
        (LORA, None, None),
        ("README.md", None, None),
    ]


def test_same_scenario_gives_identical_json(emu: HubEmulator) -> None:
    url = f"{emu.endpoint}/api/models/{REPO}?blobs=true"
    first = httpx2.get(url).content
    emu.reset()
    emu.add_repo(REPO)
    emu.add_lfs_file(REPO, LORA, size=LORA_SIZE, sha256=LORA_SHA256, header=_header(2))
    emu.add_small_file(REPO, "README.md", README)
    assert httpx2.get(url).content == first
    assert json.loads(first)["siblings"][0]["lfs"]["sha256"] == LORA_SHA256


def test_paths_info_omits_unknown_paths(api: HfApi) -> None:
    items = api.get_paths_info(REPO, [LORA, "README.md", "nope.bin"])
    by_path = {item.path: item for item in items}
    assert sorted(by_path) == [LORA, "README.md"]
    lora = by_path[LORA]
    assert isinstance(lora, RepoFile)
    assert lora.size == LORA_SIZE
    assert lora.lfs is not None
    assert lora.lfs.sha256 == LORA_SHA256
    assert api.get_paths_info(REPO, ["missing/a", "missing/b"]) == []
    sha = api.model_info(REPO).sha
    assert sha is not None
    assert [item.path for item in api.get_paths_info(REPO, [LORA], revision=sha)] == [LORA]


# ---------------------------------------------------------------------------- errors and access


def test_renamed_repo_redirects_everywhere(emu: HubEmulator, api: HfApi) -> None:
    emu.rename_repo(REPO, "Kijai/WanVideo_renamed")
    assert api.model_info(REPO).id == "Kijai/WanVideo_renamed"
    assert [item.path for item in api.get_paths_info(REPO, ["README.md"])] == ["README.md"]
    assert len(api.parse_safetensors_file_metadata(REPO, LORA).tensors) == 2
    metadata = get_hf_file_metadata(_url(emu, LORA), token=False)
    assert metadata.etag == LORA_SHA256
    assert metadata.size == LORA_SIZE
    assert emu.status_counts[307] == 4


@pytest.mark.parametrize("gated", ["auto", "manual"])
def test_gated_repo(emu: HubEmulator, api: HfApi, gated: str) -> None:
    emu.add_repo("org/gated", gated="auto" if gated == "auto" else "manual")
    emu.add_lfs_file("org/gated", "w.safetensors", size=10_000)
    info = api.model_info("org/gated", files_metadata=True)
    assert info.gated == gated
    assert [s.size for s in info.siblings or []] == [10_000]
    with pytest.raises(GatedRepoError) as anonymous:
        api.parse_safetensors_file_metadata("org/gated", "w.safetensors")
    assert anonymous.value.response.status_code == 401
    assert emu.counts["cdn"] == 0


def test_missing_repo(api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError) as caught:
        api.model_info("org/missing")
    assert not isinstance(caught.value, GatedRepoError)
    assert caught.value.response.status_code == 401
    assert caught.value.response.headers["X-Error-Code"] == "RepoNotFound"
    with pytest.raises(RepositoryNotFoundError):
        api.get_paths_info("org/missing", ["README.md"])
    assert not api.file_exists("org/missing", "README.md")


def test_missing_revision(emu: HubEmulator, api: HfApi) -> None:
    sha = api.model_info(REPO).sha
    assert sha is not None
    assert api.model_info(REPO, revision=sha).sha == sha
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="v9")
    with pytest.raises(RevisionNotFoundError):
        get_hf_file_metadata(_url(emu, LORA, revision="refs/pr/1"), token=False)
    with pytest.raises(RevisionNotFoundError):
        api.parse_safetensors_file_metadata(REPO, LORA, revision="v9")
    with pytest.raises(RevisionNotFoundError):
        api.get_paths_info(REPO, [LORA], revision="v9")


def test_missing_file(emu: HubEmulator, api: HfApi) -> None:
    with pytest.raises(RemoteEntryNotFoundError) as caught:
        get_hf_file_metadata(_url(emu, "LoRAs/gone.safetensors"), token=False)
    assert caught.value.response.headers["X-Repo-Commit"] == api.model_info(REPO).sha
    assert not api.file_exists(REPO, "LoRAs/gone.safetensors")


def test_disabled_repo(emu: HubEmulator, api: HfApi) -> None:
    emu.add_repo("org/disabled", disabled=True)
    with pytest.raises(DisabledRepoError):
        api.model_info("org/disabled")


def test_moved_and_removed_files_change_the_commit(emu: HubEmulator, api: HfApi) -> None:
    before = api.model_info(REPO).sha
    new_path = "LoRAs/Wan22_Lightx2v/renamed.safetensors"
    emu.move_file(REPO, LORA, new_path)
    info = api.model_info(REPO, files_metadata=True)
    assert info.sha != before
    found = [(s.rfilename, s.lfs.sha256) for s in info.siblings or [] if s.lfs]
    assert found == [(new_path, LORA_SHA256)]
    emu.remove_file(REPO, new_path)
    assert api.model_info(REPO).sha not in (before, info.sha)
    assert api.get_paths_info(REPO, [new_path]) == []


def test_user_and_org_overview(emu: HubEmulator, api: HfApi) -> None:
    emu.add_user("Kijai")
    emu.add_user("Wan-AI", org=True)
    assert api.get_user_overview("Kijai").username == "Kijai"
    assert api.get_organization_overview("Wan-AI").name == "Wan-AI"
    for call, name in ((api.get_user_overview, "nobody"), (api.get_organization_overview, "Kijai")):
        with pytest.raises(HfHubHTTPError) as caught:
            call(name)
        assert caught.value.response.status_code == 404
    assert emu.counts["user"] == 4


# ---------------------------------------------------------------------------- files


def test_lfs_file_metadata(emu: HubEmulator, api: HfApi) -> None:
    metadata = get_hf_file_metadata(_url(emu, LORA), token=False)
    assert metadata.size == LORA_SIZE
    assert metadata.etag == LORA_SHA256
    assert metadata.commit_hash == api.model_info(REPO).sha
    assert metadata.location.startswith(emu.cdn_endpoint)
    assert metadata.xet_file_data is None
    assert emu.counts["cdn"] == 0  # HEAD stops at the cross-origin 302


def test_small_file_metadata_and_download(emu: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    metadata = get_hf_file_metadata(_url(emu, "README.md"), token=False)
    git_blob = hashlib.sha1(b"blob %d\0" % len(README) + README, usedforsecurity=False).hexdigest()
    assert metadata.etag == git_blob
    assert metadata.size == len(README)
    local = api.hf_hub_download(REPO, "README.md", cache_dir=tmp_path)
    assert Path(local).read_bytes() == README


def test_small_lfs_download_through_cdn(emu: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    header = _header(1)
    emu.add_lfs_file(REPO, "tiny.safetensors", size=len(header) + 4096, header=header)
    local = api.hf_hub_download(REPO, "tiny.safetensors", cache_dir=tmp_path)
    assert Path(local).read_bytes() == header + bytes(4096)
    assert emu.counts["cdn"] == 1


def test_parse_safetensors_large_header_uses_two_ranges(emu: HubEmulator, api: HfApi) -> None:
    header = _header(1500)
    assert len(header) > 100_001
    emu.add_lfs_file(REPO, "big.safetensors", size=len(header) + 10_000_000, header=header)
    parsed = api.parse_safetensors_file_metadata(REPO, "big.safetensors")
    assert len(parsed.tensors) == 1500
    assert parsed.metadata == {"format": "pt"}
    assert emu.range_requests == 2
    assert emu.counts["cdn"] == 2
    assert emu.counts["resolve"] == 2


def test_parse_safetensors_small_header_and_small_file(emu: HubEmulator, api: HfApi) -> None:
    parsed = api.parse_safetensors_file_metadata(REPO, LORA)
    assert len(parsed.tensors) == 2
    assert emu.range_requests == 1
    header = _header(3)
    emu.add_small_file(REPO, "small.safetensors", header)  # shorter than the 100,001-byte range
    assert len(api.parse_safetensors_file_metadata(REPO, "small.safetensors").tensors) == 3
    assert emu.range_requests == 2
    assert emu.status_counts[206] == 2


def test_ranges_head_and_keep_alive(emu: HubEmulator) -> None:
    url = f"{emu.endpoint}/{REPO}/resolve/main/README.md"
    with httpx2.Client() as client:
        clamped = client.get(url, headers={"Range": "bytes=5-99999"})
        assert clamped.status_code == 206
        assert clamped.content == README[5:]
        assert clamped.headers["Content-Range"] == f"bytes 5-{len(README) - 1}/{len(README)}"
        assert client.get(url, headers={"Range": "bytes=4-"}).content == README[4:]
        assert client.get(url, headers={"Range": f"bytes={len(README)}-"}).status_code == 416
        get, head = client.get(url), client.head(url)
        assert head.content == b""
        assert head.headers["Content-Length"] == get.headers["Content-Length"]
        assert head.headers["ETag"] == get.headers["ETag"]
        lfs_head = client.head(f"{emu.endpoint}/{REPO}/resolve/main/{LORA}")
        assert lfs_head.status_code == 302
        assert lfs_head.headers["X-Linked-Size"] == str(LORA_SIZE)
        cdn = client.get(lfs_head.headers["Location"], headers={"Range": f"bytes={LORA_SIZE - 10}-"})
        assert cdn.status_code == 206
        assert cdn.content == bytes(10)
    assert not any(name.lower().startswith("x-xet") for name in lfs_head.headers)


# ---------------------------------------------------------------------------- faults and limits


def test_fault_429_carries_retry_after(emu: HubEmulator, api: HfApi) -> None:
    emu.inject("model_info", Fault("429", retry_after=7))
    with pytest.raises(HfHubHTTPError) as caught:
        api.model_info(REPO)
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert "r=0;t=7" in response.headers["RateLimit"]
    assert api.model_info(REPO).id == REPO  # the queue is consumed
    assert emu.status_counts[429] == 1


def test_fault_503_and_502(emu: HubEmulator, api: HfApi) -> None:
    emu.inject("paths_info", Fault("503"))
    with pytest.raises(HfHubHTTPError) as caught:
        api.get_paths_info(REPO, ["README.md"])
    assert caught.value.response.status_code == 503
    emu.add_user("Kijai")
    emu.inject("user", Fault("502"))
    with pytest.raises(HfHubHTTPError) as user:
        api.get_user_overview("Kijai")
    assert user.value.response.status_code == 502
    assert api.get_user_overview("Kijai").username == "Kijai"


def test_fault_reset_raises_transport_error(emu: HubEmulator, api: HfApi) -> None:
    emu.inject("resolve", Fault("reset"))
    with pytest.raises(httpx2.TransportError):
        get_hf_file_metadata(_url(emu, LORA), token=False)
    assert get_hf_file_metadata(_url(emu, LORA), token=False).size == LORA_SIZE
    emu.inject("cdn", Fault("reset"))
    with pytest.raises(httpx2.TransportError):
        api.parse_safetensors_file_metadata(REPO, LORA)
    assert len(api.parse_safetensors_file_metadata(REPO, LORA).tensors) == 2
    emu.inject("model_info", Fault("reset"))
    with pytest.raises(httpx2.TransportError):
        api.model_info(REPO)
    assert emu.status_counts == {302: 3, 206: 1}  # the resets sent no status


def test_fault_429_keeps_r0_under_rate_limit() -> None:
    with HubEmulator(rate_limit=100) as emu:
        emu.add_repo(REPO)
        emu.inject("model_info", Fault("429"))
        with pytest.raises(HfHubHTTPError) as caught:
            HfApi(endpoint=emu.endpoint, token=False).model_info(REPO)
        assert caught.value.response.headers["RateLimit"] == '"api";r=0;t=1'
        assert "you have reached your 'api' rate limit" in str(caught.value)


def test_fault_truncated_json(emu: HubEmulator, api: HfApi) -> None:
    emu.inject("model_info", Fault("truncated_json"))
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        api.model_info(REPO)


def test_fault_slow(emu: HubEmulator, api: HfApi) -> None:
    emu.inject("model_info", Fault("slow", seconds=0.3))
    started = time.monotonic()
    assert api.model_info(REPO).id == REPO
    assert time.monotonic() - started >= 0.3


def test_rate_limit_budget() -> None:
    with HubEmulator(rate_limit=3, window_seconds=60) as emu:
        emu.add_repo(REPO)
        api = HfApi(endpoint=emu.endpoint, token=False)
        for _ in range(3):
            api.model_info(REPO)
        with pytest.raises(HfHubHTTPError) as caught:
            api.model_info(REPO)
        headers = caught.value.response.headers
        assert caught.value.response.status_code == 429
        assert headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=60'
        assert headers["RateLimit"].startswith('"api";r=0;t=')
        assert int(headers["Retry-After"]) > 0
        assert emu.status_counts == {200: 3, 429: 1}


def test_rate_limit_window_resets_and_spares_faults() -> None:
    with HubEmulator(rate_limit=1, window_seconds=1.0) as emu:
        emu.add_repo(REPO)
        api = HfApi(endpoint=emu.endpoint, token=False)
        api.model_info(REPO)
        emu.inject("model_info", Fault("503"))
        with pytest.raises(HfHubHTTPError) as caught:
            api.model_info(REPO)
        assert caught.value.response.status_code == 429  # over budget: the 503 stays queued
        time.sleep(1.05)
        with pytest.raises(HfHubHTTPError) as queued:
            api.model_info(REPO)
        assert queued.value.response.status_code == 503


def test_rate_limit_headers_on_every_api_response() -> None:
    with HubEmulator(rate_limit=10) as emu, httpx2.Client() as client:
        first = client.get(f"{emu.endpoint}/api/models/org/missing")
        assert first.status_code == 401
        assert first.headers["X-Error-Code"] == "RepoNotFound"
        assert first.headers["RateLimit"] == '"api";r=9;t=300'
        assert "RateLimit" not in client.get(f"{emu.endpoint}/org/missing/resolve/main/x").headers


def test_latency_and_counters() -> None:
    with HubEmulator(latency=0.05) as emu:
        emu.add_repo(REPO)
        api = HfApi(endpoint=emu.endpoint, token=False)
        started = time.monotonic()
        api.model_info(REPO)
        assert time.monotonic() - started >= 0.05
        api.file_exists(REPO, "nope")
        assert emu.counts == {"model_info": 1, "resolve": 1}
        assert emu.status_counts == {200: 1, 404: 1}
