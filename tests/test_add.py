"""`add`: a new LoRA data file from a Hub URL, checked against the emulator with the real client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from generator.catalog.validate import load_catalog
from generator.cli import main
from tests.hub_emulator import Fault, Hostility, HubEmulator

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


def _add(root: Path, url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--root", str(root), "add", url, "--date", "2026-11-27", *extra])
    out, err = capsys.readouterr()
    return code, out + err


def _loras(root: Path) -> set[str]:
    return {path.name for path in (root / "data" / "loras").iterdir()}


def _refusal(root: Path, url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run `add` expecting a refusal: exit 2, one `add: ` line on stderr, nothing written; its message."""
    before = _loras(root)
    code = main(["--root", str(root), "add", url, "--date", "2026-11-27", *extra])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), out + err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("add: "), err
    assert _loras(root) == before
    return err.removeprefix("add: ").rstrip("\n")


def _written(root: Path, out: str) -> str:
    """The text of the data file that `add` says it wrote."""
    line = next(line for line in out.splitlines() if line.startswith("wrote "))
    return (root / line.removeprefix("wrote ").split(":", 1)[0]).read_text(encoding="utf-8")


def _answer_paths_info(emu: HubEmulator, **item: Any) -> None:
    """Make the emulator's paths-info items for REPO carry these raw JSON values."""

    def rewrite(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"type": "file", "oid": "0" * 40, "size": 1234, "path": i["path"], **item} for i in items]

    emu.make_hostile(REPO, Hostility(paths_info=rewrite))


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


def test_add_writes_yaml_that_reads_back_as_meant(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The body is serialized YAML: comments first, then exactly the fields meant, in the usual order."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert code == 0, out
    text = _written(catalog_root, out)
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert text.startswith("\n".join(comments) + "\n")
    assert "# Guessed from the file name: generation, task, expert, claimed" in text
    assert yaml.safe_load(text) == {
        "id": "wan-2-2-i2v-a14b-low-lightx2v-4step-lora-260412-rank-64-fp16",
        "file": {"repo": REPO, "path": NEW},
        "generation": "2.2",
        "task": "I2V",
        "expert": "low",
        "family": "lightx2v",
        "claimed": {"rank": 64, "precision": "fp16"},
        "recommendation": "listed",
        "added": dt.date(2026, 11, 27),
    }


def test_add_guesses_no_expert_from_high_quality(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`high_quality` is no noise expert (once `add` wrote `expert: high` for it); fp8_e4m3fn is the catalog's fp8_e4m3."""
    path = "LoRAs/Styles/Wan21_T2V_14B_cinematic_high_quality_lora_rank32_fp8_e4m3fn.safetensors"
    emu.add_lfs_file(REPO, path, size=1234)
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{path}", capsys)
    assert code == 0, out
    text = _written(catalog_root, out)
    assert "# Guessed from the file name: generation, task, claimed (" in text
    entry = yaml.safe_load(text)
    assert "expert" not in entry
    assert (entry["generation"], entry["task"], entry["family"]) == ("2.1", "T2V", "other")
    assert entry["claimed"] == {"rank": 32, "precision": "fp8_e4m3"}


@pytest.mark.parametrize(
    "name",
    [
        "key: value #1 'single' \"double\" \\ back.safetensors",
        "- dash [list] {map} & anchor * alias ! tag | > % @ `.safetensors",
        "ünïcödé 名前 wan2.1 t2v.safetensors",
        "null.safetensors",
    ],
)
def test_add_round_trips_odd_file_names(
    name: str, emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """YAML syntax in a file name stays a string value: the file reads back with the same path."""
    odd = f"LoRAs/{name}"
    emu.add_lfs_file(REPO, odd, size=1234)
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{quote(odd)}", capsys, "--id", "odd")
    assert code == 0, out
    assert yaml.safe_load(_written(catalog_root, out))["file"] == {"repo": REPO, "path": odd}
    assert load_catalog(catalog_root / "data", catalog_root).lora("odd").file.path == odd


@pytest.mark.parametrize(
    "sha256",
    [
        NEW_SHA + "\nrecommendation: recommended\ncomment: injected",
        NEW_SHA + "\n",
        NEW_SHA.upper(),
        NEW_SHA[:-1],
        None,
        12345,
    ],
)
def test_add_treats_a_malformed_hub_sha256_as_unknown(
    sha256: object,
    emu: HubEmulator,
    catalog_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sha256 that is not 64 lower-case hex digits is unknown, said so, and never reaches the YAML."""
    _answer_paths_info(emu, lfs={"oid": sha256, "size": 1234, "pointerSize": 132})
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert code == 0, out
    assert "add: note: the Hub's sha256 is not 64 lower-case hex digits: sha256 unknown" in out
    text = _written(catalog_root, out)
    assert "# Hub: 1,234 bytes, sha256 unknown (not 64 lower-case hex digits)\n" in text
    assert "injected" not in text
    data = yaml.safe_load(text)
    assert (data["recommendation"], "comment" in data) == ("listed", False)
    load_catalog(catalog_root / "data", catalog_root)


@pytest.mark.parametrize("size", [None, -1, 2**53, "1234", True, 12.5, [1]])
def test_add_treats_a_malformed_hub_size_as_unknown(
    size: object,
    emu: HubEmulator,
    catalog_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`size: null` (a TypeError before), negative, huge or non-integer sizes are unknown, said so."""
    lfs = {"oid": NEW_SHA, "size": size, "pointerSize": 132}
    _answer_paths_info(emu, size=size, lfs=lfs)
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert code == 0, out
    assert "add: note: the Hub's size is not a whole number of bytes below 2**53: size unknown" in out
    text = _written(catalog_root, out)
    assert f"# Hub: size unknown (not a valid byte count), sha256 {NEW_SHA}\n" in text


def test_add_refuses_a_malformed_hub_answer(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item the client cannot read (LFS info without its sha256) is a refusal, not a traceback."""
    _answer_paths_info(emu, lfs={"size": 1234})
    message = _refusal(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert message == f"the Hub's answer about {REPO} is malformed (KeyError)"


def test_add_prints_hub_error_text_as_one_escaped_line(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server's error message with escapes and line breaks is shown escaped, on the one line."""

    emu.inject("paths_info", Fault("answer", status=418, body={"error": "down\x1b[2J\n::error::forged"}))
    message = _refusal(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{NEW}", capsys)
    assert message == f"the Hub did not answer for {REPO} (HTTP 418): down\\x1b[2J\\n::error::forged"


def test_add_cuts_a_long_id_before_stripping_separators(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name whose 100th id character is a separator gives a valid 99-character id, not one ending in '-'."""
    for separator in ("_", "."):
        long = f"LoRAs/{'x' * 99}{separator}{'y' * 30}.safetensors"
        emu.add_lfs_file(REPO, long, size=1234)
        code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{long}", capsys)
        assert code == 0, out
        entry_id = "x" * 99
        assert load_catalog(catalog_root / "data", catalog_root).lora(entry_id).file.path == long
        (catalog_root / "data" / "loras" / f"{entry_id}.yaml").unlink()


def test_add_joins_separator_runs_into_one(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'._' or '..' between words would make an invalid id: they become one '-'."""
    odd = "LoRAs/--Wan2.1._T2V..rank_32__.safetensors"
    emu.add_lfs_file(REPO, odd, size=1234)
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/blob/main/{odd}", capsys)
    assert code == 0, out
    assert (catalog_root / "data" / "loras" / "wan2.1-t2v-rank-32.yaml").is_file()


@pytest.mark.parametrize("name", ["___.safetensors", "-.-.safetensors", "名前.safetensors"])
def test_add_refuses_a_file_name_without_an_id(
    name: str, emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name with no ASCII letter or digit gives no id: a refusal that suggests --id (which works)."""
    path = f"LoRAs/{name}"
    emu.add_lfs_file(REPO, path, size=1234)
    url = f"{emu.endpoint}/{REPO}/blob/main/{quote(path)}"
    message = _refusal(catalog_root, url, capsys)
    assert message == (
        f"cannot make an id from the file name '{name}' (no ASCII letter or digit); choose one with --id"
    )
    assert sum(emu.counts.values()) == 0
    code, out = _add(catalog_root, url, capsys, "--id", "named-by-hand")
    assert code == 0, out


def test_add_refuses_an_id_longer_than_100_characters(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--id follows the id rules, length included."""
    url = f"{emu.endpoint}/{REPO}/blob/main/{NEW}"
    message = _refusal(catalog_root, url, capsys, "--id", "a" * 101)
    assert message.endswith("at most 100 characters")


_BAD_URLS = [
    ("https:///Kijai/WanVideo_comfy/blob/main/a.safetensors", "the URL has no host"),
    ("https://user@huggingface.co/Kijai/W/blob/main/a.safetensors", "may not hold a user name or password"),
    ("https://huggingface.co@evil.example/K/W/blob/main/a.safetensors", "may not hold a user name"),
    ("https://huggingface.co:8443/Kijai/W/blob/main/a.safetensors", "not a Hugging Face URL"),
    ("https://huggingface.co:x/Kijai/W/blob/main/a.safetensors", "not a valid URL"),
    ("https://[huggingface.co/Kijai/W/blob/main/a.safetensors", "not a valid URL"),
    ("http://huggingface.co/Kijai/W/blob/main/a.safetensors", "not a Hugging Face URL"),
    ("http://127.0.0.1:1/Kijai/W/blob/main/a.safetensors", "not a Hugging Face URL"),
    ("{hub}/Kijai/W/blob/main/a.safetensors?x=/../../b.safetensors", "may not carry a query or a fragment"),
    ("{hub}/Kijai/W/blob/main/a.safetensors#b.safetensors", "may not carry a query or a fragment"),
    ("{hub}/Kijai/W/blob/main/a.safe\ntensors", "the URL holds U+000A"),
    ("https://hugging\tface.co/Kijai/W/blob/main/a.safetensors", "the URL holds U+0009"),
    (
        "https://huggingface.co/Кijai/WanVideo_comfy/blob/main/a.safetensors",
        "the repo id 'Кijai/WanVideo_comfy' is not valid: character U+041A (CYRILLIC CAPITAL LETTER KA)",
    ),
    (
        "{hub}/%D0%9Aijai/WanVideo_comfy/blob/main/a.safetensors",
        "U+041A (CYRILLIC CAPITAL LETTER KA) at position 1",
    ),
    ("{hub}/Kijai%2FX/W/blob/main/a.safetensors", "'Kijai/X/W' is not valid: a Hub id is 'owner/name'"),
    ("{hub}//W/blob/main/a.safetensors", "'/W' is not valid: a Hub id may not have an empty name"),
    ("{hub}/Kijai--x/W/blob/main/a.safetensors", "'Kijai--x/W' is not valid: a Hub id may not contain '--'"),
    (
        "{hub}/Kijai/W.git/blob/main/a.safetensors",
        "'Kijai/W.git' is not valid: a Hub id may not end in '.git'",
    ),
    ("{hub}/Kijai/W/blob/main/a/../b.safetensors", "the file path 'a/../b.safetensors' is not valid"),
    ("{hub}/Kijai/W/blob/main/a/%2E%2E/b.safetensors", "the file path 'a/../b.safetensors' is not valid"),
    ("{hub}/Kijai/W/blob/main/a//b.safetensors", "the file path 'a//b.safetensors' is not valid"),
    ("{hub}/Kijai/W/blob/main/%20a.safetensors", "starts or ends with white space"),
    ("{hub}/Kijai/W/blob/main/a%0A.safetensors", "the file path holds U+000A"),
    ("{hub}/Kijai/W/blob/main/a%E2%80%AEb.safetensors", "holds U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("{hub}/Kijai/W/blob/main/a%FF.safetensors", "percent-encoding is not UTF-8"),
    ("{hub}/Kijai/W/blob/../a.safetensors", "the revision '..' is not valid"),
    ("{hub}/Kijai/W/blob/ma%1Bin/a.safetensors", "the revision holds U+001B"),
]


@pytest.mark.parametrize(("url", "message"), _BAD_URLS)
def test_add_refuses_tricky_urls_before_any_request(
    url: str, message: str, emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No host, user info, another port or scheme, queries, control characters, non-ASCII repo ids,
    '..' or empty segments: one `add: ` line naming the problem, exit 2, no request, nothing written."""
    assert message in _refusal(catalog_root, url.replace("{hub}", emu.endpoint), capsys)
    assert sum(emu.counts.values()) == 0


def test_add_accepts_the_download_button_query(
    emu: HubEmulator, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Hub's download button links to …/resolve/main/FILE?download=true: that is accepted."""
    code, out = _add(catalog_root, f"{emu.endpoint}/{REPO}/resolve/main/{NEW}?download=true", capsys)
    assert code == 0, out
