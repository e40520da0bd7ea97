"""Issue 12, discovery: files that appear in a followed folder become candidates, at no extra API call."""

from __future__ import annotations

import json
from pathlib import Path

from generator.catalog.models import HfLink
from generator.catalog.snapshot import load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.hub.collect import catalog_links
from generator.hub.report import markdown
from tests.catalog_scenario import KIJAI, populate
from tests.checking import T1, T2, T3, run_check
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, make_lora_header

FOLDER = "LoRAs/Wan22-Lightning"
NEW = f"{FOLDER}/Wan22_A14B_T2V_HIGH_Lightning_8steps_lora_251201_rank64_fp16.safetensors"
ELSEWHERE = "Unfollowed/Wan22_other_lora_rank64_fp16.safetensors"


def _repos(root: Path) -> int:
    catalog = load_catalog(root / "data", root)
    links = [link for _, link in catalog_links(catalog) if isinstance(link, HfLink) and link.kind != "user"]
    return len({link.repo for link in links})


def test_a_new_file_in_a_followed_folder_is_a_candidate(hub: HubEmulator, catalog_root: Path) -> None:
    """Run 1 records the folders; a file added later is listed in report, JSON and snapshot, with its
    header facts; calls per repo stay at most 1.2."""
    root = catalog_root
    populate(hub, load_catalog(root / "data", root))
    first = run_check(root, T1, hub_only=True)
    assert first.candidates == ()  # the first look proposes nothing
    assert f"{KIJAI}:{FOLDER}" in load_snapshot(root / "data" / "hub-snapshot.json").followed
    header = make_lora_header("wan2.2-t2v-a14b", "comfyui", 64, "F16")
    hub.add_lfs_file(KIJAI, NEW, size=file_size(header), header=header)
    hub.add_lfs_file(KIJAI, ELSEWHERE, size=file_size(header), header=header)
    hub.counts.clear()
    second = run_check(root, T2, hub_only=True)
    assert hub.counts["model_info"] / _repos(root) <= 1.2
    assert [(c.repo, c.path) for c in second.candidates] == [(KIJAI, NEW)]  # not the unfollowed folder
    (candidate,) = second.candidates
    assert candidate.header.startswith("rank 64, fp16, fits ")
    text = markdown(second.rows, checked_at=T2, candidates=second.candidates)
    assert "### Not in the catalog yet (1)" in text
    assert f"python -m generator add https://huggingface.co/{KIJAI}/blob/main/" in text
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    assert list(snapshot.candidates) == [f"hf:file:{KIJAI}/{NEW}"]
    assert candidate.sha256 in snapshot.headers
    third = run_check(root, T3, hub_only=True)
    assert [c.found_at for c in third.candidates] == [T2]  # still a candidate, found on day 2
    assert third.written is False  # nothing new: the snapshot is unchanged


def test_the_json_report_lists_candidates_and_adding_one_ends_it(
    hub: HubEmulator, catalog_root: Path
) -> None:
    """`check --json` carries the candidates; once `generator add` catalogues the file, it is no candidate."""
    root = catalog_root
    populate(hub, load_catalog(root / "data", root))
    assert main(["--root", str(root), "check", "--hub-only"]) == 0
    header = make_lora_header("wan2.2-t2v-a14b", "comfyui", 64, "F16")
    hub.add_lfs_file(KIJAI, NEW, size=file_size(header), header=header)
    report = root / "report.json"
    assert main(["--root", str(root), "check", "--hub-only", "--json", str(report)]) == 0
    (item,) = json.loads(report.read_text())["candidates"]
    assert (item["repo"], item["path"]) == (KIJAI, NEW)
    assert (
        main(["--root", str(root), "add", f"{hub.endpoint}/{KIJAI}/blob/main/{NEW}", "--id", "lightning-8"])
        == 0
    )
    assert main(["--root", str(root), "check", "--hub-only", "--json", str(report)]) == 0
    assert json.loads(report.read_text())["candidates"] == []
    assert load_snapshot(root / "data" / "hub-snapshot.json").candidates == {}
