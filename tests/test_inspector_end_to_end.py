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
from generator.lora.facts import HeaderFacts
from tests.catalog_scenario import populate
from tests.checking import run_check
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, fixture_header

REPO = "tester/new-layouts"
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
SIZE_CLASSES = {
    "1.3b": {"wan2.1-t2v-1.3b"},
    "5b": {"wan2.2-ti2v-5b"},
    "14b": {"wan2.1-t2v-14b", "wan2.1-i2v-14b", "wan2.2-t2v-a14b", "wan2.2-i2v-a14b"},
}
"""The architectures of each model size, written out here, not read from the analyser's table."""


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
    outcome = run_check(root, "2026-11-29T10:00:00Z", hub_only=True)
    assert outcome.exit_code == 0, outcome.rows
    catalog = load_catalog(root / "data", root)
    snapshot = load_snapshot(root / "data" / "hub-snapshot.json")
    found = {label: facts_of(snapshot, catalog.lora(lora_id)) for label, lora_id in ids.items()}
    assert all(facts is not None for facts in found.values()), found
    return {label: facts for label, facts in found.items() if facts is not None}


def _verdicts(facts: HeaderFacts) -> dict[str, set[str]]:
    """Verdict word → the architectures that got it."""
    found: dict[str, set[str]] = {}
    for arch, fit in facts.fits.items():
        found.setdefault(fit.verdict, set()).add(arch)
    return found


def test_a_lora_for_one_size_class_fits_that_class_and_no_other(inspected: dict[str, HeaderFacts]) -> None:
    """The 1.3B LoHa fits the 1.3B model and is refused by every other; the 14B files fit every 14B model and
    are refused by 1.3B and 5B (an answer for each architecture: nothing left unknown, nothing fitting all)."""
    loha = inspected["loha-1.3b"]
    assert loha.key_format == "lycoris"
    assert _verdicts(loha) == {"fits": SIZE_CLASSES["1.3b"], "no": SIZE_CLASSES["14b"] | SIZE_CLASSES["5b"]}
    for label in ("musubi-converted", "kijai-rank32"):
        expected = {"fits": SIZE_CLASSES["14b"], "no": SIZE_CLASSES["1.3b"] | SIZE_CLASSES["5b"]}
        assert _verdicts(inspected[label]) == expected, label


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
