"""Validation: one deliberately broken data set, whose complete list of errors is asserted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.catalog.load import read_document
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED = [
    "data/combinations/bad-links.yaml:7:11: downloads.0.link: only https:// links are allowed, not javascript link",
    "data/combinations/bad-links.yaml:9:11: downloads.1.link: only https:// links are allowed, not http link",
    "data/combinations/bad-links.yaml:11:11: downloads.2.link: an HF folder link needs a path",
    "data/combinations/bad-links.yaml:13:30: downloads.3.link.repo: a Hub id is 'owner/name' or a user or organisation name: at most one '/'",
    "data/combinations/copy-of-dyno.yaml:1:5: duplicate id 'dyno-high-lightning-low': combinations/dyno-high-lightning-low.yaml has it (the id must match the file name)",
    "data/combinations/dangling.yaml:4:10: unknown base model 'wan22-t2v-a14b-hihg' (no data/models/wan22-t2v-a14b-hihg.yaml); did you mean 'wan22-t2v-a14b-high'?",
    "data/combinations/dangling.yaml:6:13: unknown LoRA 'no-such-lora' (no data/loras/no-such-lora.yaml)",
    "data/loras/bomb.yaml:9:10: comment: Input should be a valid string",
    "data/loras/bomb.yaml:9:11: YAML aliases (*name) are not allowed in data files; write the value out (9 aliases in this file)",
    "data/loras/control.yaml:3:16: control character U+0007 (ALERT) is not allowed; remove it",
    "data/loras/deep.yaml:1:1: the file is nested too deeply to be a data file",
    "data/loras/empty.yaml:1:1: file is empty; it should hold a mapping of fields",
    "data/loras/everything-wrong.yaml:2:1: missing required field 'family'",
    "data/loras/everything-wrong.yaml:4:3: file: path must end in .safetensors",
    "data/loras/everything-wrong.yaml:6:13: generation: Input should be '2.1' or '2.2'",
    "data/loras/everything-wrong.yaml:8:1: duplicate key 'task' (first defined on line 7)",
    "data/loras/everything-wrong.yaml:9:1: unknown field 'famly'; did you mean 'family'?",
    "data/loras/everything-wrong.yaml:11:9: claimed.rank: Input should be a valid integer, unable to parse string as an integer; or Input should be 'adaptive'",
    "data/loras/everything-wrong.yaml:13:10: YAML aliases (*name) are not allowed in data files; write the value out",
    "data/loras/everything-wrong.yaml:14:8: added: Input should be a valid date or datetime, invalid character in year",
    "data/loras/latin1.yaml:1:9: invalid UTF-8 (byte 0xe9); save the file as UTF-8",
    "data/loras/notes.txt:1:1: data files end in .yaml; entries go in data/loras/<id>.yaml, data/models/<id>.yaml, data/combinations/<id>.yaml, data/special-use/<id>.yaml, data/recipes/<id>.yaml, data/releases/<id>.yaml",
    "data/loras/same-file.yaml:2:7: the same file is already listed in data/loras/fusionx-t2v-14b.yaml",
    "data/loras/tabs.yaml:3:1: tab used for indentation; indent with spaces",
    "data/loras/wrong-name.yaml:1:5: id 'other-name' must match the file name 'wrong-name.yaml'",
    "data/special-use/typed.yaml:2:10: purpose: Input should be a valid string",
    "data/special-use/typed.yaml:4:7: link: a user link names a user or org; other kinds name an 'owner/name' repo",
    "data/special-use/typed.yaml:5:8: added: Input should be a valid date or datetime, day value is outside expected range",
    "28 errors",
]


@pytest.fixture(name="broken")
def _broken(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "broken", tmp_path / "data")
    return tmp_path


def test_every_problem_of_the_broken_data_set_is_reported_at_once(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All problems, sorted, as path:line:col, then the count; exit status 1 and no traceback."""
    assert main(["--root", str(broken), "validate"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == EXPECTED
    assert "Traceback" not in out + err


def test_github_format_turns_problems_into_annotations(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format github prints ::error lines on the data file, line and column."""
    assert main(["--root", str(broken), "validate", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "::error file=data/combinations/bad-links.yaml,line=7,col=11::"
        "downloads.0.link: only https:// links are allowed, not javascript link"
    )
    assert len(lines) == len(EXPECTED)


def test_real_data_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed catalog passes validation."""
    root = Path(__file__).parent.parent
    assert main(["--root", str(root), "validate"]) == 0
    assert "data/ is valid" in capsys.readouterr().out


def test_a_leading_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """Some editors write a UTF-8 BOM; it is not an error."""
    file = tmp_path / "x.yaml"
    file.write_bytes(b"\xef\xbb\xbfid: x\n")
    doc, problems = read_document(file, "x.yaml")
    assert problems == []
    assert doc is not None
    assert doc.data == {"id": "x"}
    assert doc.values[("id",)] == (1, 5)


def test_alias_bomb_is_refused_without_expansion(tmp_path: Path) -> None:
    """A billion-laughs document gives one error and is never expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(9)]
    file = tmp_path / "bomb.yaml"
    file.write_text("\n".join(lines) + "\n")
    _, problems = read_document(file, "bomb.yaml")
    assert [str(p) for p in problems] == [
        "bomb.yaml:2:8: YAML aliases (*name) are not allowed in data files; write the value out (81 aliases in this file)"
    ]


def test_error_paths_are_relative_to_the_project(broken: Path) -> None:
    """DataError carries sorted, de-duplicated problems with project-relative paths."""
    with pytest.raises(DataError) as info:
        load_catalog(broken / "data", broken)
    assert all(problem.path.startswith("data/") for problem in info.value.problems)
    assert info.value.problems == sorted(info.value.problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"links": {',
            "data/hub-snapshot.json:1:11: invalid JSON: EOF while parsing an object",
        ),
        (
            '{"links": {"url:https://e.org": {"status": "alive", "checked_at": "2026-11-29T00:00:00Z"}}}',
            'data/hub-snapshot.json:1:44: links["url:https://e.org"].status: Input should be',
        ),
    ],
)
def test_a_broken_snapshot_is_a_data_error(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate and build report a damaged data/hub-snapshot.json as path:line:col, never a traceback."""
    shutil.copytree(FIXTURES / "catalog", tmp_path / "data")
    (tmp_path / "data" / "hub-snapshot.json").write_text(text)
    for command in ("validate", "build"):
        assert main(["--root", str(tmp_path), command]) == 1
        out = capsys.readouterr().out
        assert out.startswith(expected), out


def _lora_text(entry_id: str, path: str) -> str:
    return (
        f"id: {entry_id}\nfile:\n  repo: Kijai/WanVideo_comfy\n  path: {json.dumps(path)}\n"
        "generation: '2.2'\ntask: T2V\nfamily: Lightning\nadded: 2026-12-01\n"
    )


ACCEPTED_PATHS = {
    "space": "LoRAs/Wan22-Lightning/Wan22 A14B T2V HIGH rank64.safetensors",
    "accent": "LoRAs/Wan22-Lightning/Wan22_éclair_rank64.safetensors",
    "dash": "LoRAs/Wan22-Lightning/-Wan22_rank64.safetensors",
    "long": f"LoRAs/{'w' * 486}.safetensors",  # 504 characters, as on the Hub
}
REFUSED_PATHS = {
    "zero-width": (
        "LoRAs/Wan22\u200b.safetensors",
        "file.path: invisible format character U+200B (ZERO WIDTH SPACE) is not allowed",
    ),
    "trailing-space": (
        "LoRAs/Wan22.safetensors ",
        "file.path: the path starts or ends with white space, which data files cannot keep (YAML strips it)",
    ),
    "too-long": (
        f"LoRAs/{'w' * 1000}.safetensors",
        "file.path: a path has at most 1,000 characters, not 1,018",
    ),
}


def test_validate_accepts_the_paths_the_hub_accepts_and_says_why_it_refuses_others(
    catalog_root: Path,
) -> None:
    """Issue 26, point 4: a space, a non-ASCII letter, a leading '-' and 504 characters are valid paths; an
    invisible character, white space at an end and more than 1,000 characters are refused, each with its
    reason at path:line:col."""
    loras = catalog_root / "data" / "loras"
    for entry_id, path in ACCEPTED_PATHS.items():
        (loras / f"{entry_id}.yaml").write_text(_lora_text(entry_id, path), encoding="utf-8")
    catalog = load_catalog(catalog_root / "data", catalog_root)
    assert {lora.file.path for lora in catalog.loras} >= set(ACCEPTED_PATHS.values())
    for entry_id, (path, _) in REFUSED_PATHS.items():
        (loras / f"{entry_id}.yaml").write_text(_lora_text(entry_id, path), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_catalog(catalog_root / "data", catalog_root)
    assert [str(problem) for problem in info.value.problems] == [
        f"data/loras/{entry_id}.yaml:4:9: {message}"
        for entry_id, (_, message) in sorted(REFUSED_PATHS.items())
    ]


DISMISSED = """\
files:
  - repo: Kijai/WanVideo_comfy
    path: Wan2_1_VAE_bf16.safetensors
    reason: a VAE, not a LoRA
    dismissed: 2026-12-01
  - repo: Kijai/WanVideo_comfy
    path: Wan2_1_VAE_bf16.safetensors
    reason: dismissed twice
    dismissed: 2026-12-02
  - repo: Kijai/WanVideo_comfy
    path: Wan21_CausVid_14B_T2V_lora_rank32.safetensors
    reason: catalogued meanwhile
    dismissed: 2026-12-01
  - repo: Kijai/WanVideo_comfy
    path: README.md
    reason: not a candidate
    dismissed: 2026-12-01
  - repo: Kijai/WanVideo_comfy
    path: Wan2_1_umt5_xxl_fp8.safetensors
    dismissed: 2026-12-01
    resaon: an encoder
"""


def test_dismissals_are_validated_like_every_data_file(catalog_root: Path) -> None:
    """Issue 26, point 3: data/dismissed.yaml (optional) is read like any data file: every problem at once,
    each at path:line:col; a file dismissed twice, or dismissed while the catalog holds it, is an error."""
    (catalog_root / "data" / "dismissed.yaml").write_text(DISMISSED, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_catalog(catalog_root / "data", catalog_root)
    assert [str(problem) for problem in info.value.problems] == [
        "data/dismissed.yaml:14:5: files.3: path must end in .safetensors: only those files are proposed",
        "data/dismissed.yaml:18:5: missing required field 'reason' in 'files.4'",
        "data/dismissed.yaml:21:5: unknown field 'files.4.resaon'; did you mean 'reason'?",
    ]
    text = "".join(DISMISSED.splitlines(keepends=True)[:13])  # the first three entries only
    (catalog_root / "data" / "dismissed.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_catalog(catalog_root / "data", catalog_root)
    assert [str(problem) for problem in info.value.problems] == [
        "data/dismissed.yaml:7:11: this file is already dismissed on line 3",
        "data/dismissed.yaml:11:11: data/loras/wan21-causvid-14b-t2v-lora-rank32.yaml catalogues this file: "
        "remove this dismissal or that entry",
    ]
    text = "".join(DISMISSED.splitlines(keepends=True)[:5])
    (catalog_root / "data" / "dismissed.yaml").write_text(text, encoding="utf-8")
    (dismissal,) = load_catalog(catalog_root / "data", catalog_root).dismissed
    assert (dismissal.path, dismissal.reason) == ("Wan2_1_VAE_bf16.safetensors", "a VAE, not a LoRA")
