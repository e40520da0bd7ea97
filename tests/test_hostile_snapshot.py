"""Issue 10, items 1 and 4: the committed snapshot is untrusted input, validated field by field.

A pull request can change data/hub-snapshot.json. `validate` (what every PR runs) must refuse any value
that does not have its format -- naming the file, the JSON path and the line -- so that nothing in it
can become live Markdown on a page or crash `build`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.catalog.snapshot import SNAPSHOT_FILE, dump_snapshot, load_snapshot
from generator.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "catalog" / SNAPSHOT_FILE
SHA = "c653087fa7c9163abdd1a4c627bfc483966c6d78a4426667d1185f860951c30e"
Change = Callable[[dict[str, Any]], None]


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _first_link(data: dict[str, Any]) -> dict[str, Any]:
    return data["links"][sorted(data["links"])[0]]  # type: ignore[no-any-return]


def _first_header(data: dict[str, Any]) -> dict[str, Any]:
    return data["headers"][sorted(data["headers"])[0]]  # type: ignore[no-any-return]


def _set_link(field: str, value: object) -> Change:
    return lambda data: _first_link(data).__setitem__(field, value)


def _set_header(path: tuple[str, ...], value: object) -> Change:
    def change(data: dict[str, Any]) -> None:
        node = _first_header(data)
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


MARKDOWN = "c653` [x](javascript:alert(1)) ![](https://evil.example/p.gif) `x"
ATTACKS: dict[str, tuple[Change, str]] = {
    "Markdown in a sha256": (_set_link("sha256", MARKDOWN), ".sha256: String should match pattern"),
    "Markdown in checked_at": (
        lambda data: data.__setitem__("checked_at", f"2026-11-20 {MARKDOWN}"),
        "checked_at: String should match pattern",
    ),
    "a date that is none": (
        _set_link("verified_at", "2026-02-30T00:00:00Z"),
        "verified_at: day is out of range for month",
    ),
    "a commit that is not hex": (_set_link("commit", "main"), ".commit: String should match pattern"),
    "a size of 10**400": (_set_link("size", 10**400), ".size: Input should be less than or equal to"),
    "a negative size": (_set_link("size", -1), ".size: Input should be greater than or equal to 0"),
    "a size that is a string": (_set_link("size", "1234"), ".size: Input should be a valid integer"),
    "a look-alike renamed repo": (
        _set_link("new_repo", "vrgamedevgirl84/Wan14BT2VFusion\u0456X"),
        ".new_repo:",
    ),
    "a moved path leaving the repo": (_set_link("new_path", "../../etc/passwd"), ".new_path:"),
    "a reason with a line break": (
        lambda data: data["headers"].__setitem__("ab" * 32, {"unreadable": "HTTP 500\n::error::forged"}),
        "U+000A (LINE FEED) is not allowed; the value must be a single line",
    ),
    "an error kept from an outage": (
        _set_link("error", "HTTP 503"),
        ".error: Extra inputs are not permitted",
    ),
    "a rank that is text": (
        _set_header(("rank", "nominal"), "oops"),
        ".rank.nominal: Input should be a valid integer",
    ),
    "an unknown architecture key": (
        lambda data: _first_header(data)["fits"].__setitem__("wan9-t2v", {"verdict": "fits", "reason": "x"}),
        ".fits[\"wan9-t2v\"]: unknown architecture 'wan9-t2v'",
    ),
    "a missing fits": (lambda data: _first_header(data).pop("fits"), "missing required field 'fits'"),
    "a note with an escape": (
        _set_header(("notes",), ["\x1b[31mred"]),
        ".notes[0]: control character U+001B (ESCAPE) is not allowed",
    ),
    "a header key that is no sha256": (
        lambda data: data["headers"].__setitem__("../x", {"unreadable": "x"}),
        'headers["../x"]: String should match pattern',
    ),
    "an unknown format": (lambda data: data.__setitem__("format", 2), "format: Input should be 1"),
    "a number that is NaN": (_set_header(("rank", "mean"), float("nan")), ".rank.mean:"),
    "a candidate header line beyond its bound": (
        lambda data: data.setdefault("candidates", {}).__setitem__(
            "hf:file:Kijai/WanVideo_comfy/a b.safetensors",
            {
                "repo": "Kijai/WanVideo_comfy",
                "path": "a b.safetensors",
                "found_at": "2026-11-20T00:00:00Z",
                "header": {"summary": "rank 64 " * 40, "analyser": 3},
            },
        ),
        ".header.summary: String should have at most 300 characters",
    ),
    "a non-LoRA keyed by a zero-width path": (
        lambda data: data.setdefault("not_loras", {}).__setitem__(
            "hf:file:Kijai/WanVideo_comfy/a\u200bb.safetensors", {"sha256": SHA, "reason": "no LoRA key"}
        ),
        "invisible format character U+200B (ZERO WIDTH SPACE) is not allowed",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_validate_refuses_a_value_without_its_format(attack: str, tmp_path: Path) -> None:
    """Each tampered value is one error naming the JSON path and the line the value stands on."""
    change, expected = ATTACKS[attack]
    data = _fixture()
    change(data)
    path = tmp_path / SNAPSHOT_FILE
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_snapshot(path, "data/hub-snapshot.json")
    messages = [str(problem) for problem in caught.value.problems]
    assert any(expected in message for message in messages), messages
    problem = caught.value.problems[0]
    assert problem.line > 1 or attack in ("Markdown in checked_at", "an unknown format")
    line = path.read_text(encoding="utf-8").splitlines()[problem.line - 1]
    assert line.strip(), (problem, line)


def test_the_error_points_at_the_line_of_the_bad_value(tmp_path: Path) -> None:
    """The line and column are where the value stands in the file, as an editor shows them."""
    data = _fixture()
    _first_link(data)["sha256"] = "not-a-hash"
    path = tmp_path / SNAPSHOT_FILE
    text = json.dumps(data, indent=2, sort_keys=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_snapshot(path, "snap.json")
    (problem,) = caught.value.problems
    line = text.splitlines()[problem.line - 1]
    assert line[problem.col - 1 :].startswith('"not-a-hash"'), (problem, line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "invalid JSON: recursion limit exceeded"),
        ('{"links": {}} trailing', "invalid JSON: trailing characters"),
        ('{"format": 1, "format": 1}', ""),
    ],
)
def test_broken_json_is_an_error_never_a_crash(text: str, expected: str, tmp_path: Path) -> None:
    """A snapshot nested 100,000 deep gave a RecursionError; now every broken text is a clear error."""
    path = tmp_path / SNAPSHOT_FILE
    path.write_text(text, encoding="utf-8")
    if not expected:
        load_snapshot(path)  # duplicate keys are JSON; the last wins, as in every JSON reader
        return
    with pytest.raises(DataError) as caught:
        load_snapshot(path)
    assert expected in str(caught.value.problems[0])


def test_a_snapshot_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """A symlink (to a huge or secret file) is never followed."""
    target = tmp_path / "elsewhere.json"
    target.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    link = tmp_path / SNAPSHOT_FILE
    link.symlink_to(target)
    with pytest.raises(DataError) as caught:
        load_snapshot(link)
    assert "not a regular file" in caught.value.problems[0].message


def test_the_real_snapshot_format_round_trips() -> None:
    """What `check` writes is what `validate` accepts, byte for byte."""
    snapshot = load_snapshot(FIXTURE)
    assert dump_snapshot(snapshot) == FIXTURE.read_text(encoding="utf-8")


def test_validate_and_build_report_a_tampered_snapshot_without_a_traceback(tmp_path: Path) -> None:
    """The CLI path a PR runs: exit 1, file:line:col and the JSON path, no traceback."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    for item in (ROOT / "data").iterdir():
        if item.name != SNAPSHOT_FILE:
            target = root / "data" / item.name
            if item.is_dir():
                import shutil

                shutil.copytree(item, target)
            else:
                target.write_bytes(item.read_bytes())
    data = _fixture()
    _first_link(data)["size"] = 10**400
    (root / "data" / SNAPSHOT_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")
    for stage in ("validate", "build"):
        done = subprocess.run(
            [sys.executable, "-m", "generator", "--root", str(root), stage],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "Traceback" not in output
        assert "data/hub-snapshot.json:" in output
        assert ".size: Input should be less than or equal to 9007199254740992" in output


def test_thousands_of_bad_values_are_placed_in_bounded_time(tmp_path: Path) -> None:
    """Placing an error walks the text: only the first 100 are placed, the rest are counted."""
    data = _fixture()
    link = _first_link(data)
    data["links"] = {f"url:https://e.org/{i}": {**link, "size": -1} for i in range(5000)}
    path = tmp_path / SNAPSHOT_FILE
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_snapshot(path)
    problems = caught.value.problems
    assert len(problems) == 101
    assert any("… and 4,900 more errors" in problem.message for problem in problems)
