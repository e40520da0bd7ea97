"""Issue 11, "Done when": layouts the catalog does not hold yet, added with `generator add` and checked.

Each file is served by the emulator with a header built from an independent key-list fixture (cited public
sources, tests/fixtures/headers/), added to a copy of the catalog through the real `add` command, and
inspected by the real `check`. The verdicts are then read from the snapshot the check wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog.snapshot import facts_of, load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.hub.check import CheckOptions, check_catalog
from generator.hub.retry import RetryPolicy
from generator.lora.facts import HeaderFacts
from tests.catalog_scenario import populate
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, fixture_header

REPO = "tester/new-layouts"
FAST = CheckOptions(workers=2, policy=RetryPolicy(attempts=2, base_delay=0.01, timeout=5.0), progress=False)
NEW_FILES = {
    "loha-1.3b": ("Wan21_T2V_1.3B_style_loha_rank16.safetensors", "loha-musubi-wan21-t2v-1.3b.keys", {}),
    "musubi-converted": (
        "Wan22_T2V_A14B_motion_lora_rank32_converted.safetensors",
        "musubi-converted-wan22-t2v-a14b.keys",
        {},
    ),
    "kijai-rank32": (
        "Wan21_T2V_14B_extracted_lora_rank32_bf16.safetensors",
        "kijai-extract-14b-t2v-type.keys",
        {"R": 32},
    ),
}
SIZE_CLASSES = {"1.3b": {"wan2.1-t2v-1.3b"}, "5b": {"wan2.2-ti2v-5b"}}


@pytest.fixture(name="inspected", scope="module")
def _inspected(hub_session: HubEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, HeaderFacts]:
    """Add the three files with `generator add`, run the check, return each file's stored facts."""
    import shutil

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(Path(__file__).resolve().parent.parent / "data", root / "data")
    hub_session.reset()
    populate(hub_session, load_catalog(root / "data", root))
    hub_session.add_repo(REPO)
    for name, key_list, overrides in NEW_FILES.values():
        header = fixture_header(key_list, **overrides)
        hub_session.add_lfs_file(REPO, name, size=file_size(header), header=header)
    ids = {}
    for label, (name, _, _) in NEW_FILES.items():
        url = f"{hub_session.endpoint}/{REPO}/blob/main/{name}"
        assert main(["--root", str(root), "add", url, "--date", "2026-11-29", "--id", label]) == 0
        ids[label] = label
    outcome = check_catalog(root, hub_only=True, options=FAST, now=lambda: "2026-11-29T10:00:00Z")
    assert outcome.exit_code == 0, outcome.rows
    catalog = load_catalog(root / "data", root)
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    found = {label: facts_of(snapshot, catalog.lora(lora_id)) for label, lora_id in ids.items()}
    assert all(facts is not None for facts in found.values()), found
    return {label: facts for label, facts in found.items() if facts is not None}


def test_a_lora_for_one_size_class_never_fits_another(inspected: dict[str, HeaderFacts]) -> None:
    """The 1.3B LoHa fits only the 1.3B model; the 14B files never fit 1.3B or 5B."""
    loha = inspected["loha-1.3b"]
    assert {arch for arch, v in loha.fits.items() if v.verdict == "fits"} <= SIZE_CLASSES["1.3b"]
    assert loha.key_format == "lycoris"
    for label in ("musubi-converted", "kijai-rank32"):
        fits = {arch for arch, v in inspected[label].fits.items() if v.verdict in ("fits", "partial")}
        assert not fits & (SIZE_CLASSES["1.3b"] | SIZE_CLASSES["5b"]), (label, fits)


def test_a_converted_file_with_alpha_folded_in_reports_scale_one(inspected: dict[str, HeaderFacts]) -> None:
    """No alpha tensors: ComfyUI applies no alpha, so the scale is 1.0 whatever ss_network_alpha says."""
    alpha = inspected["musubi-converted"].alpha
    assert (alpha.with_alpha, alpha.scale) == (0, 1.0)
    assert alpha.metadata_alpha == 16.0


def test_a_rank_32_extraction_is_not_over_parameterised(inspected: dict[str, HeaderFacts]) -> None:
    """r·(in+out) < in·out for every module of a rank-32 14B extraction: no such note."""
    facts = inspected["kijai-rank32"]
    assert facts.rank.nominal == 32
    assert not any("over-parameterised" in note for note in facts.notes), facts.notes
