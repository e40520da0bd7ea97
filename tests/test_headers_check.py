"""Header inspection inside `check`: facts by sha256, compatibility, contradictions, zero re-reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.catalog.contradictions import lora_contradictions
from generator.catalog.snapshot import facts_of, load_snapshot, unreadable_of
from generator.catalog.validate import Catalog, load_catalog
from generator.hub.headers import FIRST_READ
from generator.lora.comfyui_loader import COMFYUI_LABEL
from generator.lora.facts import ANALYSER_VERSION, HeaderFacts
from tests.catalog_scenario import header_for, populate
from tests.checking import T1, run_check
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, fixture_header

LIGHTNING = "wan22-a14b-t2v-high-lightning-4steps-250928"
I2V_256 = "lightx2v-i2v-14b-480p-cfg-step-distill-rank256"
MOE = "wan22-i2v-a14b-high-lightx2v-moe-distill"
MOE_LAYOUT = "kijai-extract-14b-t2v-type.keys"
"""The writer's layout transcribed from its code; at its default rank 64 it is the MoE distill file to the byte."""


@pytest.fixture(name="root")
def _root(catalog_root: Path) -> Path:
    rcm = catalog_root / "data" / "notes" / "rcm.yaml"  # no internet: make the GitHub link a Hub link
    rcm.write_text(rcm.read_text().replace("https://github.com/NVlabs/rcm", "{kind: repo, repo: NVlabs/rcm}"))
    return catalog_root


def _headers(catalog: Catalog) -> dict[str, bytes]:
    """The header each LoRA is served with. Lightning's contradicts its name (rank 64 bf16 under "rank128_fp16");
    the MoE distill file's comes from the independent key list, not from the entry; the others follow their entry."""
    return {lora.id: header_for(lora) for lora in catalog.loras} | {
        LIGHTNING: header_for(catalog.lora(LIGHTNING), rank=64, dtype="BF16"),
        MOE: fixture_header(MOE_LAYOUT),
    }


@pytest.fixture(name="served")
def _served(hub: HubEmulator, root: Path) -> HubEmulator:
    catalog = load_catalog(root / "data", root)
    populate(hub, catalog, headers=_headers(catalog))
    return hub


def reads(header: bytes) -> int:
    """Range requests needed to parse a header: the check asks for FIRST_READ bytes, then for the rest."""
    return 1 if len(header) <= FIRST_READ else 2


def _check(root: Path, now: str = T1) -> tuple[int, str]:
    outcome = run_check(root, now)
    return outcome.exit_code, "\n".join(f"{w.label}: {w.message}" for w in outcome.warnings)


def test_every_lora_header_is_read_once_and_never_again(served: HubEmulator, root: Path) -> None:
    """First run: one or two Range reads per file (two for the 218 KB header); second run: none."""
    code, _ = _check(root)
    assert code == 0
    catalog = load_catalog(root / "data", root)
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    assert all(facts_of(snapshot, lora) is not None for lora in catalog.loras)
    assert len(header_for(catalog.lora(I2V_256))) > 200_000
    expected = sum(reads(header) for header in _headers(catalog).values())
    assert served.range_requests == expected
    before = (root / "data" / "hub-snapshot.json").read_bytes()
    _check(root, now="2026-11-27T10:00:00Z")
    assert served.range_requests == expected
    assert (root / "data" / "hub-snapshot.json").read_bytes() == before


@pytest.mark.usefixtures("served")
def test_header_facts_and_compatibility_of_a_wan21_i2v_lora(root: Path) -> None:
    """The Kijai rank-256 I2V extraction: uniform rank 256, 290 image keys ignored on Wan 2.2 bases."""
    _check(root)
    catalog = load_catalog(root / "data", root)
    facts = facts_of(load_snapshot(root / "data" / "hub-snapshot.json"), catalog.lora(I2V_256))
    assert facts is not None
    assert (facts.key_format, facts.rank.kind, facts.rank.nominal, facts.precision.label) == (
        "comfyui",
        "uniform",
        256,
        "bf16",
    )
    assert facts.tensor_count == 1749
    assert facts.i2v_keys == 290
    found = {model.id: facts.fits[model.architecture] for model in catalog.models if model.architecture}
    assert found["wan21-i2v-14b-480p"].verdict == "fits"
    # Wan 2.2 I2V A14B is built without the CLIP branch (comfy/model_detection.py:709-712): its image-branch keys
    # are "lora key not loaded" (comfy/lora.py:93); the 14B pairs fail at merge on the narrower models.
    assert found["wan22-i2v-a14b-high"].verdict == "partial"
    assert "290 keys of the image branch not loaded" in found["wan22-i2v-a14b-high"].reason
    assert found["wan21-t2v-1.3b"].verdict == "no"
    assert found["wan22-ti2v-5b"].verdict == "no"
    counts = found["wan22-i2v-a14b-low"].counts
    assert counts is not None
    assert (counts.patches, counts.applied, counts.keys_not_loaded) == (1261, 1053, {"image-branch": 290})
    assert found["wan22-i2v-a14b-low"].comfyui == COMFYUI_LABEL


@pytest.mark.usefixtures("served")
def test_contradictions_are_reported(root: Path) -> None:
    """A header that is rank 64 bf16 under a name that says rank128 fp16 is flagged, once per claim; the real
    layout of the MoE distill file (rank 64, bf16, a 14B expert), as its name says, is not."""
    code, warnings = _check(root)
    assert code == 0  # a contradiction is a warning, not a dead link
    name = "Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16.safetensors"
    assert f"{name}: name says rank 128 but the header is rank 64" in warnings
    assert "fp16" in warnings
    assert "bf16" in warnings
    catalog = load_catalog(root / "data", root)
    facts = facts_of(load_snapshot(root / "data" / "hub-snapshot.json"), catalog.lora(LIGHTNING))
    assert facts is not None
    messages = lora_contradictions(facts, catalog.lora(LIGHTNING))
    assert len(messages) == len(set(messages)) == 2
    assert all(not message.startswith("catalog says rank") for message in messages)
    moe = catalog.lora(MOE)
    moe_facts = facts_of(load_snapshot(root / "data" / "hub-snapshot.json"), moe)
    assert moe_facts is not None
    assert (moe_facts.rank.nominal, moe_facts.precision.label) == (64, "bf16")
    assert lora_contradictions(moe_facts, moe) == []
    assert Path(moe.file.path).name not in warnings


def test_only_files_whose_sha256_changed_are_read_again(served: HubEmulator, root: Path) -> None:
    """A replaced upload (new sha256) is read again, and the facts of its old sha256 are dropped."""
    _check(root)
    catalog = load_catalog(root / "data", root)
    before = served.range_requests
    lora = catalog.lora("fusionx-i2v-14b")
    header = header_for(lora, rank=32)
    served.add_lfs_file(
        lora.file.repo, lora.file.path, size=file_size(header), header=header, sha256="ab" * 32
    )
    _code, warnings = _check(root, now="2026-11-27T10:00:00Z")
    assert served.range_requests == before + reads(header)
    snapshot = json.loads((root / "data" / "hub-snapshot.json").read_text())
    assert "ab" * 32 in snapshot["headers"]
    assert len(snapshot["headers"]) == len(catalog.loras)  # the old sha256's facts were dropped
    assert "Wan2.1_I2V_14B_FusionX_LoRA.safetensors" not in warnings


def test_a_moved_file_keeps_its_header_facts_without_a_read(served: HubEmulator, root: Path) -> None:
    """The same sha256 at a new path: status moved, header facts kept, no Range request."""
    _check(root)
    before = served.range_requests
    lora = load_catalog(root / "data", root).lora(I2V_256)
    served.move_file(lora.file.repo, lora.file.path, f"Lightx2v/old/{lora.file.filename}")
    _check(root, now="2026-11-27T10:00:00Z")
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    fact = snapshot.fact(f"hf:file:{lora.file.repo}/{lora.file.path}")
    assert fact is not None
    assert (fact.status, fact.new_path) == ("moved", f"Lightx2v/old/{lora.file.filename}")
    assert facts_of(snapshot, lora) is not None
    assert served.range_requests == before


def test_a_file_that_is_not_safetensors_is_reported_and_not_fetched_again(
    served: HubEmulator, root: Path
) -> None:
    """An unparsable header is a lasting warning stored by sha256: the next run makes no Range request for it."""
    catalog = load_catalog(root / "data", root)
    lora = catalog.lora("fusionx-phantom-14b")
    served.add_lfs_file(lora.file.repo, lora.file.path, size=4096, header=b"\xff" * 16, sha256="cd" * 32)
    _code, warnings = _check(root)
    assert "Phantom_Wan_14B_FusionX_LoRA.safetensors: not a readable safetensors header" in warnings
    before = served.range_requests
    _code, again = _check(root, now="2026-11-27T10:00:00Z")
    assert served.range_requests == before
    assert "not a readable safetensors header" in again
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    assert facts_of(snapshot, lora) is None
    assert "not a readable safetensors header" in (unreadable_of(snapshot, lora) or "")
    assert json.loads((root / "data" / "hub-snapshot.json").read_text())["headers"]["cd" * 32] == {
        "unreadable": unreadable_of(snapshot, lora),
        "analyser": ANALYSER_VERSION,
    }


def test_facts_of_an_older_analyser_are_read_once_more(served: HubEmulator, root: Path) -> None:
    """Issue 11: a corrected analysis reaches old snapshots: older facts are re-read, once."""
    assert _check(root)[0] == 0
    path = root / "data" / "hub-snapshot.json"
    data = json.loads(path.read_text())
    old = sorted(data["headers"])[0]
    del data["headers"][old]["analyser"]  # as written before analyser versions existed
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = served.range_requests
    _check(root, now="2026-11-27T10:00:00Z")
    assert served.range_requests > before
    assert load_snapshot(path).headers[old].analyser == ANALYSER_VERSION
    again = served.range_requests
    _check(root, now="2026-11-28T10:00:00Z")
    assert served.range_requests == again


def test_facts_of_analyser_2_load_and_are_read_again_with_comfyuis_counts(
    served: HubEmulator, root: Path
) -> None:
    """Issue 19: facts stored by analyser 2 (verdicts from the shape table, no counts, no ComfyUI release) are
    valid snapshot facts, and the next check reads their file again and stores ComfyUI's verdicts with counts."""
    assert _check(root)[0] == 0
    path = root / "data" / "hub-snapshot.json"
    data = json.loads(path.read_text())
    old = sorted(data["headers"])[0]
    stored = data["headers"][old]
    stored["analyser"] = 2
    stored["fits"] = {arch: {"verdict": "fits", "reason": "all modules match"} for arch in stored["fits"]}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = load_snapshot(path).headers[old]
    assert before.analyser == 2
    assert isinstance(before, HeaderFacts)
    assert all(v.counts is None and v.comfyui is None for v in before.fits.values())
    reads_before = served.range_requests
    _check(root, now="2026-11-27T10:00:00Z")
    assert served.range_requests > reads_before
    after = load_snapshot(path).headers[old]
    assert isinstance(after, HeaderFacts)
    assert after.analyser == ANALYSER_VERSION == 3
    assert all(v.counts is not None and v.comfyui == COMFYUI_LABEL for v in after.fits.values())


def test_tensors_larger_than_the_file_are_flagged(hub: HubEmulator, root: Path) -> None:
    """Issue 11: a header whose tensors need more bytes than the Hub's size is a warning, not a fact."""
    catalog = load_catalog(root / "data", root)
    populate(hub, catalog)
    lora = catalog.lora(LIGHTNING)
    header = header_for(lora)
    hub.add_lfs_file(lora.file.repo, lora.file.path, size=len(header) + 1000, header=header, sha256="ef" * 32)
    _code, warnings = _check(root)
    assert "the header's tensors need" in warnings
    assert f"but the file on the Hub has {len(header) + 1000:,}" in warnings
