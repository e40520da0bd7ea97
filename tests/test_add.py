"""`add`: a new LoRA data file from a Hub URL, checked against the emulator with the real client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pytest

from generator.catalog.validate import load_catalog
from generator.cli import main
from tests.hub_emulator import HubEmulator

REPO = "Kijai/WanVideo_comfy"
PATH = "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors"
SHA = "0185333b558fc50ed2389b65a204e6a2cec5cf4c235ec627a3fe577cc7e9cd74"
NEW = "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_LOW_lightx2v_4step_lora_260412_rank_64_fp16.safetensors"
NEW_SHA = "09e10abd98460b66439bd77ea671e94c10fdc8251e0b986aa196d1904e3cc583"


@pytest.fixture(name="emu")
def _emu(hub: HubEmulator) -> HubEmulator:
    hub.add_repo(REPO)
    hub.add_lfs_file(REPO, PATH, size=630_697_104, sha256=SHA)
    hub.add_lfs_file(REPO, NEW, size=630_695_648, sha256=NEW_SHA)
    return hub


def _add(root: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--root", str(root), "add", url, "--date", "2026-11-27"])
    out, err = capsys.readouterr()
    return code, out + err


def test_add_writes_a_valid_entry_with_the_hub_facts_and_name_guesses(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A /blob/ URL gives a new file that validates, with repo, path, size, sha256 and guesses."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert code == 0, out
    entry_id = "wan-2-2-i2v-a14b-low-lightx2v-4step-lora-260412-rank-64-fp16"
    text = (catalog_root / "data" / "loras" / f"{entry_id}.yaml").read_text()
    assert "# Hub: 630,695,648 bytes, sha256 " + NEW_SHA in text
    lora = load_catalog(catalog_root / "data", catalog_root).lora(entry_id)
    assert (lora.file.repo, lora.file.path) == (REPO, NEW)
    assert (lora.generation, lora.task, lora.expert) == ("2.2", "I2V", "low")
    assert (lora.claimed.rank, lora.claimed.precision) == (64, "fp16")
    assert lora.family == "lightx2v"
    assert lora.comment is None
    assert lora.added == dt.date(2026, 11, 27)
    assert emu.counts["paths_info"] == 1


def test_add_accepts_resolve_urls(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """…/resolve/… URLs work as well as …/blob/…."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/resolve/main/{NEW}", capsys)
    assert code == 0, out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://civitai.com/models/1", "not a Hugging Face URL"),
        ("https://huggingface.co/Kijai/WanVideo_comfy", "not a file URL"),
        ("https://huggingface.co/Kijai/WanVideo_comfy/blob/main/README.md", "a LoRA is a .safetensors file"),
        ("javascript:alert(1)", "not a Hugging Face URL"),
    ],
)
def test_add_refuses_non_hub_urls(
    url: str, message: str, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anything but a Hub file URL is refused with a clear message and exit 2."""
    code, out = _add(catalog_root, url, capsys)
    assert (code, message in out) == (2, True), out


def test_add_refuses_duplicates(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file already in the catalog is refused, naming the data file that holds it."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{PATH}", capsys)
    assert code == 2
    assert "already in the catalog as data/loras/wan22-i2v-a14b-high-lightx2v-moe-distill.yaml" in out


def test_add_refuses_files_missing_on_the_hub(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path the Hub does not have, or a repo that does not exist, is refused."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/LoRAs/nope.safetensors", capsys)
    assert (code, "no file 'LoRAs/nope.safetensors'" in out) == (2, True), out
    code, out = _add(catalog_root, f"{emu.endpoint}/nobody/nothing/blob/main/x.safetensors", capsys)
    assert (code, "no such repository on the Hub: nobody/nothing" in out) == (2, True), out


def test_add_refuses_an_invalid_id(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--id must be a valid slug: no path tricks, nothing written outside data/loras/."""
    code = main(
        ["--root", str(catalog_root), "add", f"{emu.endpoint}/{REPO}/blob/main/{NEW}", "--id", "../../x"]
    )
    assert code == 2
    assert "id '../../x' is not valid" in capsys.readouterr().err
    assert not (catalog_root / "x.yaml").exists()


def test_add_reports_an_unreachable_hub(
    catalog_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Hub listening: a clear message and exit 2, no traceback."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code, out = _add(catalog_root, f"http://127.0.0.1:9/{REPO}/blob/main/{NEW}", capsys)
    assert code == 2
    assert "cannot reach the Hub at http://127.0.0.1:9" in out
    assert "Traceback" not in out


def test_add_quotes_odd_paths(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path with quotes, '#' and backslashes is written as a valid YAML string."""
    odd = 'LoRAs/odd "quoted" #1 \\ name.safetensors'
    emu.add_lfs_file(REPO, odd, size=1234)
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{quote(odd)}", capsys)
    assert code == 0, out
    catalog = load_catalog(catalog_root / "data", catalog_root)
    assert any(lora.file.path == odd for lora in catalog.loras)
