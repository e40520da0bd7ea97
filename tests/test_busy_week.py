"""Issue 26, done-when: busy weeks on the Hub, end to end against the emulator with the real client.

In one week 150 new LoRA files appear in a followed folder, with them files whose names hold a space, a
non-ASCII letter, a zero-width character and a leading '-', and a full model appears at the root of a
followed repository (Kijai's: CausVid sits there). Then the weekly check runs, week after week, until every
candidate's header is read; a maintainer adds one of the odd names with `generator add` and dismisses one.
After every run the next check and the site build load the snapshot, the catalogued files stay verified, the
model is never proposed as a LoRA, and the snapshot pull request's body stays under GitHub's limit.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from generator.catalog.snapshot import load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.github.snapshot_pr import candidates_markdown, pr_body
from generator.hub.check import Outcome
from tests.catalog_scenario import KIJAI, populate
from tests.checking import run_check
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, full_model_header, make_lora_header

FOLDER = "LoRAs/Wan22-Lightning"
NEW_LORAS = [
    f"{FOLDER}/Wan22_A14B_T2V_HIGH_Lightning_{n:03}steps_lora_rank64_fp16.safetensors" for n in range(150)
]
SPACE = f"{FOLDER}/Wan22 A14B T2V LOW Lightning lora rank64.safetensors"
ACCENT = f"{FOLDER}/Wan22_A14B_T2V_LOW_Lightning_été_lora_rank64.safetensors"
DASH = "-Wan21_T2V_14B_lora_rank16_bf16.safetensors"  # at the repo's root: the whole path starts with '-'
ZERO_WIDTH = f"{FOLDER}/Wan22_A14B_T2V_LOW\u200b_Lightning_lora_rank64.safetensors"
MODEL = "Wan2_1-T2V-14B_fp8_e4m3fn.safetensors"  # a full model next to CausVid
PROPOSED = {*NEW_LORAS, SPACE, ACCENT, DASH}
GITHUB_BODY_LIMIT = 65_536


def _week(day: int) -> str:
    return (dt.datetime(2026, 12, 7) + dt.timedelta(days=7 * day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _busy_week(hub: HubEmulator) -> None:
    """What appears on the Hub in one busy week."""
    lora = make_lora_header("wan2.2-t2v-a14b", "comfyui", 64, "F16")
    for path in (*NEW_LORAS, SPACE, ACCENT, ZERO_WIDTH):
        hub.add_lfs_file(KIJAI, path, size=file_size(lora), header=lora)
    small = make_lora_header("wan2.1-t2v-14b", "comfyui", 16, "BF16")
    hub.add_lfs_file(KIJAI, DASH, size=file_size(small), header=small)
    model = full_model_header()
    hub.add_lfs_file(KIJAI, MODEL, size=file_size(model), header=model)


def _everything_still_holds(root: Path, outcome: Outcome) -> None:
    """After a run: the snapshot loads (check, validate, build), the catalogued files are verified, the model is
    not proposed, odd names are named, and the pull request's body fits."""
    assert outcome.exit_code == 0, [row for row in outcome.rows if row.finding.status != "ok"]
    assert {row.finding.status for row in outcome.rows if KIJAI in row.key} == {"ok"}
    assert MODEL not in {candidate.path for candidate in outcome.candidates}
    assert {note.name for note in outcome.notes} == {ZERO_WIDTH}
    assert load_snapshot(root / "data" / "hub-snapshot.json") == outcome.snapshot
    assert main(["--root", str(root), "validate"]) == 0
    assert main(["--root", str(root), "build"]) == 0
    body = pr_body("https://github.com/o/r/actions/runs/1", (), branch="link-check/hub-snapshot-1-1",
                   app_token=False, extra=candidates_markdown(root))  # fmt: skip
    assert len(body) < GITHUB_BODY_LIMIT


@pytest.mark.slow  # a dozen weekly checks and site builds
def test_busy_weeks_leave_every_later_check_and_build_working(hub: HubEmulator, catalog_root: Path) -> None:
    """Week by week, every run of the check and of the build loads what the previous run wrote."""
    root = catalog_root
    populate(hub, load_catalog(root / "data", root))
    assert run_check(root, _week(0), hub_only=True).exit_code == 0  # the folders are recorded
    _busy_week(hub)
    first = run_check(root, _week(1), hub_only=True)
    _everything_still_holds(root, first)
    assert {candidate.path for candidate in first.candidates} == PROPOSED
    (model_key,) = first.snapshot.not_loras  # read first: its name does not say LoRA
    assert model_key == f"hf:file:{KIJAI}/{MODEL}"
    outcome, week = first, 1
    while any(candidate.header == "header not read yet" for candidate in outcome.candidates):
        week += 1
        assert week < 12, "every header is read within ceil(154 / 20) = 8 weeks"
        outcome = run_check(root, _week(week), hub_only=True)
        _everything_still_holds(root, outcome)
    assert week == 8
    settled = run_check(root, _week(week + 1), hub_only=True)
    assert settled.written is False  # a quiet week after the busy ones writes nothing
    assert {candidate.path for candidate in settled.candidates} == PROPOSED
    assert all(candidate.header.startswith("rank ") for candidate in settled.candidates)


@pytest.mark.slow
def test_odd_names_can_be_added_and_dismissed(
    hub: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`generator add` takes the names the Hub allows (a space, a non-ASCII letter, a leading '-'), refuses
    the zero-width one saying why, and `data/dismissed.yaml` takes them too; the next check verifies what was
    added and proposes neither again."""
    root = catalog_root
    populate(hub, load_catalog(root / "data", root))
    run_check(root, _week(0), hub_only=True)
    _busy_week(hub)
    run_check(root, _week(1), hub_only=True)
    for number, path in enumerate((SPACE, ACCENT, DASH)):
        url = f"{hub.endpoint}/{KIJAI}/blob/main/{quote(path)}"
        assert main(["--root", str(root), "add", url, "--id", f"busy-{number}", "--date", "2026-12-14"]) == 0
    zero_width = f"{hub.endpoint}/{KIJAI}/blob/main/{quote(ZERO_WIDTH)}"
    assert main(["--root", str(root), "add", zero_width, "--id", "busy-zw"]) == 2
    refusal = capsys.readouterr().err
    assert "the file path holds U+200B (ZERO WIDTH SPACE)" in refusal
    assert "although the Hub allows them" in refusal
    dismissed = NEW_LORAS[0]
    (root / "data" / "dismissed.yaml").write_text(
        f"files:\n  - repo: {KIJAI}\n    path: {json.dumps(dismissed)}\n    reason: a duplicate of another step count\n"
        "    dismissed: 2026-12-14\n",
        encoding="utf-8",
    )
    outcome = run_check(root, _week(2), hub_only=True)
    _everything_still_holds(root, outcome)
    statuses = {row.label: row.finding.status for row in outcome.rows}
    assert all(statuses[f"{KIJAI}/{path}"] == "ok" for path in (SPACE, ACCENT, DASH))
    assert {candidate.path for candidate in outcome.candidates} == PROPOSED - {SPACE, ACCENT, DASH, dismissed}
    facts = load_snapshot(root / "data" / "hub-snapshot.json")
    assert all(
        facts.links[f"hf:file:{KIJAI}/{path}"].sha256 in facts.headers for path in (SPACE, ACCENT, DASH)
    )
