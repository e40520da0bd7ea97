"""Issue 21 on the Hub side: a mirror is checked like any file, its identity shown from the sha256 the check
found, never proposed by discovery; `add` refuses a known mirror and writes a file of a catalogued sha256 as a
mirror (the real huggingface_hub client against the emulator)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from generator.catalog.models import HfLink
from generator.catalog.snapshot import LinkFact, Snapshot, dump_snapshot, link_key, load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.site.render import render_pages
from tests.catalog_scenario import populate
from tests.checking import T1, T2, T3, run_check
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, make_lora_header

RANK64 = "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16"
NAME = "lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors"
KIJAI = ("Kijai/WanVideo_comfy", f"Lightx2v/{NAME}")
COMFY = ("Comfy-Org/Wan-Animate-2", f"loras/{NAME}")
COPIES = "Other-Org/Copies"
SHA, OTHER = "1" * 64, "2" * 64


def _key(place: tuple[str, str]) -> str:
    return link_key(HfLink(kind="file", repo=place[0], path=place[1]))


def _page(root: Path) -> str:
    catalog = load_catalog(root / "data", root)
    pages = render_pages(catalog, load_snapshot(root / "data" / "hub-snapshot.json"))
    return html.unescape(pages[f"loras/{RANK64}.md"])


def test_a_mirror_is_checked_shown_and_never_proposed(hub: HubEmulator, catalog_root: Path) -> None:
    """Run 1: both places verified, the same sha256, the page says identical bytes with the check's date. Run 2:
    a file new in the mirror's folder is proposed, the mirror is not. Run 3: the mirror's bytes change: the
    check warns that it is no mirror, and the page says so."""
    root = catalog_root
    populate(hub, load_catalog(root / "data", root))
    first = run_check(root, T1, hub_only=True)
    assert first.exit_code == 0
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    kijai, comfy = snapshot.links[_key(KIJAI)], snapshot.links[_key(COMFY)]
    assert kijai.sha256 is not None
    assert comfy.sha256 == kijai.sha256
    assert not [w for w in first.warnings if "mirror" in w.message]
    assert f"identical bytes (sha256 {kijai.sha256}, checked 2026-11-26)" in _page(root)
    assert f"{COMFY[0]}:loras" in snapshot.followed

    header = make_lora_header("wan2.1-i2v-14b", "comfyui", 64, "BF16")
    hub.add_lfs_file(
        COMFY[0], "loras/another_lora_rank64_bf16.safetensors", size=file_size(header), header=header
    )
    second = run_check(root, T2, hub_only=True)
    assert [(c.repo, c.path) for c in second.candidates] == [
        (COMFY[0], "loras/another_lora_rank64_bf16.safetensors")
    ]

    hub.add_lfs_file(*COMFY, size=file_size(header), sha256=OTHER, header=header)
    third = run_check(root, T3, hub_only=True)
    (warning,) = [w for w in third.warnings if "mirror" in w.message]
    assert warning.source == f"data/loras/{RANK64}.yaml"
    assert warning.message.startswith(f"mirror {'/'.join(COMFY)}: different bytes from {'/'.join(KIJAI)}")
    assert warning.message.endswith("it is no mirror: remove it, or list it as an entry of its own")
    assert f"<strong>different bytes from {'/'.join(KIJAI)} (sha256 {OTHER} here" in _page(root)
    assert (COMFY[0], COMFY[1]) not in [(c.repo, c.path) for c in third.candidates]


def _snapshot(root: Path, sha: str) -> None:
    """A committed snapshot that knows the Kijai file's sha256 (as a past check found it)."""
    fact = LinkFact(status="ok", checked_at=T1, verified_at=T1, sha256=sha, size=1234)
    (root / "data" / "hub-snapshot.json").write_text(dump_snapshot(Snapshot(links={_key(KIJAI): fact})))


def _add(root: Path, url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["--root", str(root), "add", url, "--date", "2026-12-06", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_refuses_a_known_mirror(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(COMFY[0])
    hub.add_lfs_file(*COMFY, size=2048, sha256=SHA)
    code, out, err = _add(catalog_root, f"{hub.endpoint}/{COMFY[0]}/blob/main/{COMFY[1]}", capsys)
    assert (code, out) == (2, "")
    assert err == f"add: already in the catalog as data/loras/{RANK64}.yaml (a mirror)\n"


def test_add_writes_a_file_of_a_catalogued_sha256_as_its_mirror(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another repo's copy under another name, whose sha256 is the Kijai file's: listed as a mirror of that entry,
    the entry's comments and field order kept; no new entry."""
    root = catalog_root
    _snapshot(root, SHA)
    hub.add_repo(COPIES)
    hub.add_lfs_file(COPIES, "loras/renamed_copy.safetensors", size=2048, sha256=SHA)
    entry = root / "data" / "loras" / f"{RANK64}.yaml"
    before = entry.read_text(encoding="utf-8")
    files_before = sorted(p.name for p in (root / "data" / "loras").iterdir())
    code, out, err = _add(root, f"{hub.endpoint}/{COPIES}/blob/main/loras/renamed_copy.safetensors", capsys)
    assert code == 0, err
    assert out == f"wrote data/loras/{RANK64}.yaml: the file is listed there as a mirror; open a PR\n"
    assert err == f"add: note: identical bytes to {RANK64}'s file (sha256 {SHA}): written as its mirror\n"
    after = entry.read_text(encoding="utf-8")
    added = f"- repo: {COPIES}\n  path: loras/renamed_copy.safetensors\n"
    assert after == before.replace(f"  path: {COMFY[1]}\n", f"  path: {COMFY[1]}\n{added}", 1)
    assert sorted(p.name for p in (root / "data" / "loras").iterdir()) == files_before
    lora = load_catalog(root / "data", root).lora(RANK64)
    assert [(f.repo, f.path) for f in lora.mirrors] == [COMFY, (COPIES, "loras/renamed_copy.safetensors")]


def test_add_mirror_of_is_refused_when_the_bytes_are_known_to_differ(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _snapshot(catalog_root, SHA)
    hub.add_repo(COPIES)
    hub.add_lfs_file(COPIES, f"loras/{NAME}", size=2048, sha256=OTHER)
    url = f"{hub.endpoint}/{COPIES}/blob/main/loras/{NAME}"
    code, out, err = _add(catalog_root, url, capsys, "--mirror-of", RANK64)
    assert (code, out) == (2, "")
    assert err == (
        f"add: the file's sha256 ({OTHER}) differs from {RANK64}'s ({SHA}): it is not a mirror; add it as an "
        "entry of its own (without --mirror-of)\n"
    )


def test_add_mirror_of_before_the_hashes_are_known(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a snapshot, the curator's word: written as a mirror, identity not yet checked."""
    hub.add_repo(COPIES)
    hub.add_lfs_file(COPIES, f"loras/{NAME}", size=2048, sha256=OTHER)
    code, _, err = _add(
        catalog_root, f"{hub.endpoint}/{COPIES}/blob/main/loras/{NAME}", capsys, "--mirror-of", RANK64
    )
    assert code == 0, err
    assert "identity not yet checked (the weekly check compares the sha256)" in err
    catalog = load_catalog(catalog_root / "data", catalog_root)
    assert (COPIES, f"loras/{NAME}") in [(f.repo, f.path) for f in catalog.lora(RANK64).mirrors]


def test_a_new_entry_of_a_catalogued_file_name_gets_a_note(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same name, no known sha256 to compare: a new entry, and the note says how to make it a mirror."""
    hub.add_repo(COPIES)
    hub.add_lfs_file(COPIES, f"loras/{NAME}", size=2048, sha256=OTHER)
    code, out, err = _add(
        catalog_root, f"{hub.endpoint}/{COPIES}/blob/main/loras/{NAME}", capsys, "--id", "copy"
    )
    assert code == 0, err
    assert out.startswith("wrote data/loras/copy.yaml")
    assert (
        f"add: note: same file name as {RANK64}; identity not yet checked: if it is the same file, remove this "
        f"entry and run add again with --mirror-of {RANK64}\n"
    ) in err
    catalog = load_catalog(catalog_root / "data", catalog_root)
    pages = render_pages(catalog, Snapshot())
    assert f"same file name as {RANK64} (" in html.unescape(pages["loras/copy.md"])
