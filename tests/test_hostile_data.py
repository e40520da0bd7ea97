"""Issue 10, the data-file half: hostile data files, file names, manifests and snapshots.

Each test reproduces an attack through the real code: YAML files written into a copy of data/ and read by
`python -m generator validate` (or load_catalog), real builds into docs/, a real `mkdocs build`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from generator.catalog import models as m
from generator.catalog.load import read_document
from generator.catalog.models import check_hub_id, check_repo_id
from generator.catalog.snapshot import LinkFact, Snapshot, UnreadableHeader, link_key
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.errors import DataError, Problem
from generator.files import BlockedWrite
from generator.lora.facts import HeaderFacts
from generator.lora.filename import claims_from_filename
from generator.site.output import write_pages
from generator.site.render import render_pages
from generator.text import character_name, printable, unsafe_character, unsafe_message
from tests.catalog_scenario import facts_json, header_for
from tests.safetensors_factory import file_size
from tests.sitebuild import ROOT, make_project, mkdocs_build, page_text

HUGE = 4 * 2**30  # a sparse file this big took 4.2 GB of memory when read whole
MEMORY_LIMIT = 512 * 2**20  # validate needs about 40 MB; reading HUGE bytes would fail under this limit


def edit(file: Path, old: str, new: str) -> None:
    """Replace old (which must be there) by new in a data file."""
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(root: Path, *args: str) -> tuple[int, str]:
    """`python -m generator --root root ARGS` in a process with bounded memory: exit status and stdout.

    Never a traceback; the timeout catches a read that blocks (a FIFO followed through a link).
    """
    result = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_limit_memory,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.returncode, result.stdout


def problems_of(root: Path) -> list[str]:
    """Every problem load_catalog finds in root/data, as printed."""
    with pytest.raises(DataError) as info:
        load_catalog(root / "data", root)
    return [str(problem) for problem in info.value.problems]


# --- 1 and 2: single-line and prose fields, control characters after YAML unescaping ------------------

EXPECTED_AT_ONCE = [
    "data/combinations/dyno-high-lightning-low.yaml:12:8: notes: line 2 of the text starts a fenced code block (``` or ~~~); write plain sentences",
    "data/loras/fastwan-t2v-14b-480p-rank128.yaml:14:10: comment: line 2 of the text starts with 4 or more spaces, which Markdown shows as a code block; write plain sentences",
    "data/loras/fusionx-i2v-14b.yaml:5:9: file.repo: character U+0456 (CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) at position 32 is not allowed in a Hub id; use ASCII letters, digits, '-', '_' and '.'",
    "data/loras/fusionx-phantom-14b.yaml:6:9: file.path: control character U+001B (ESCAPE) is not allowed",
    "data/loras/fusionx-t2v-14b.yaml:9:9: family: bidirectional control U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed",
    "data/loras/fusionx-t2v-14b.yaml:11:10: comment: control character U+001B (ESCAPE) is not allowed",
    "data/models/wan21-t2v-14b.yaml:4:7: name: control character U+007F (DELETE) is not allowed",
    "data/models/wan21-t2v-14b.yaml:25:1: unknown field 'note\\x1b]0;pwned\\x07'; allowed: added, architecture, description, downloads, expert, generation, id, kind, name, source, task, workflow",
    "data/notes/merging.yaml:5:9: quote.text: line break U+2028 (LINE SEPARATOR) is not allowed",
    "data/notes/rcm.yaml:8:11: links.0.link: bidirectional control U+200F (RIGHT-TO-LEFT MARK) is not allowed",
    "data/notes/trivia.yaml:5:5: items.1: line 1 of the text starts a collapsible or admonition block (??? or !!!); write plain sentences",
    "data/site.yaml:2:8: title: line break U+000A (LINE FEED) is not allowed; the value must be a single line",
    "data/special-use/drnighthan.yaml:5:26: link.repo: character U+0456 (CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) at position 4 is not allowed in a Hub id; use ASCII letters, digits, '-', '_' and '.'",
    "13 errors",
]


def test_hostile_values_are_all_reported_at_once(catalog_root: Path) -> None:
    """Escaped controls, bidi overrides, look-alike ids and Markdown blocks: every one named, with its line."""
    data = catalog_root / "data"
    lora = data / "loras" / "fusionx-t2v-14b.yaml"
    edit(lora, 'comment: "very good for 2.1"', r'comment: "Very good\e[31m for 2.1"')
    edit(lora, "family: FusionX", r'family: "Fusion\u202EX"')
    edit(data / "loras" / "fusionx-i2v-14b.yaml", "Wan14BT2VFusioniX", "Wan14BT2VFusion\u0456X")
    edit(
        data / "loras" / "fusionx-phantom-14b.yaml",
        "path: FusionX_LoRa/Phantom",
        r'path: "FusionX_LoRa/\e[2JPhantom',
    )
    edit(data / "loras" / "fusionx-phantom-14b.yaml", "LoRA.safetensors", 'LoRA.safetensors"')
    edit(
        data / "loras" / "fastwan-t2v-14b-480p-rank128.yaml",
        'comment: "very old but worth a try"',
        "comment: |\n  Very old but worth a try.\n      rm -rf ~",
    )
    edit(
        data / "combinations" / "dyno-high-lightning-low.yaml",
        "notes: Good motion",
        r'notes: "Good\n~~~\nmotion"',
    )
    edit(data / "notes" / "trivia.yaml", "  - People", '  - "??? danger"\n  - People')
    merging = data / "notes" / "merging.yaml"
    edit(merging, "  text: >-", '  text: "')  # a double-quoted string, in which escapes take effect
    edit(merging, "merge the weights", r"merge\u2028the weights")
    edit(merging, "when it's used\n", "when it's used\"\n")
    edit(
        data / "notes" / "rcm.yaml",
        "link: https://github.com/NVlabs/rcm",
        r'link: "https://github.com/NVlabs/rcm\u200F"',
    )
    edit(data / "site.yaml", "title: Lora Alchemy", "title: |\n  Lora\n  Alchemy")
    edit(data / "special-use" / "drnighthan.yaml", "repo: drnighthan}", "repo: drn\u0456ghthan}")
    model = data / "models" / "wan21-t2v-14b.yaml"
    edit(model, 'name: "Wan 2.1 T2V 14B"', r'name: "Wan 2.1\x7f T2V 14B"')
    model.write_text(model.read_text() + '"note\\e]0;pwned\\a": x\n')
    status, out = run(catalog_root, "validate")
    assert status == 1
    assert out.splitlines() == EXPECTED_AT_ONCE
    assert unsafe_character(out, multiline=True) is None


def test_yaml_block_text_keeps_its_paragraphs(catalog_root: Path) -> None:
    """Prose (a comment) may hold paragraphs and lines indented by up to 3 spaces; they reach the page."""
    lora = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    edit(
        lora,
        'comment: "very good for 2.1"',
        "comment: |\n  Very good for 2.1.\n\n     Also on 2.2, say some.\n",
    )
    edit(catalog_root / "data" / "site.yaml", "title: Lora Alchemy", "title: >\n  Lora\n  Alchemy")
    catalog = load_catalog(catalog_root / "data", catalog_root)
    assert catalog.lora("fusionx-t2v-14b").comment == "Very good for 2.1.\n\n   Also on 2.2, say some."
    assert catalog.site.title == "Lora Alchemy"
    page = render_pages(catalog, Snapshot())["loras/fusionx-t2v-14b.md"]
    assert "Very good for 2\\.1\\.\n\n   Also on 2\\.2, say some\\." in page


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("    rm -rf ~", "starts with 4 or more spaces, which Markdown shows as a code block"),
        ("```sh", "starts a fenced code block (``` or ~~~)"),
        ("  ~~~", "starts a fenced code block (``` or ~~~)"),
        ('??? note "Click me"', "starts a collapsible or admonition block (??? or !!!)"),
        ("???+ note", "starts a collapsible or admonition block (??? or !!!)"),
        ("!!! danger", "starts a collapsible or admonition block (??? or !!!)"),
        ("=====", "is a row of '=', which makes the line above a heading"),
    ],
)
def test_prose_cannot_open_a_markdown_block(line: str, reason: str, catalog_root: Path) -> None:
    """A line of prose that would open a code block, a fence, an admonition or a heading is refused."""
    lora = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    edit(lora, 'comment: "very good for 2.1"', f"comment: |\n  Very good.\n  {line}\n  for 2.1")
    assert problems_of(catalog_root) == [
        f"data/loras/fusionx-t2v-14b.yaml:11:10: comment: line 2 of the text {reason}; write plain sentences"
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        ("site.yaml", "title: Lora Alchemy", "title: |\n  Lora\n  Alchemy", "title"),
        ("loras/fusionx-t2v-14b.yaml", "family: FusionX", r'family: "Fusion\nX"', "family"),
        ("models/wan21-t2v-14b.yaml", 'name: "Wan 2.1 T2V 14B"', r'name: "Wan 2.1\n# T2V 14B"', "name"),
        (
            "special-use/drnighthan.yaml",
            "label: drnighthan on Hugging Face",
            r'label: "|\n| drnighthan"',
            "label",
        ),
        (
            "combinations/dyno-high-lightning-low.yaml",
            "model_note: some wan 2.2",
            r'model_note: "some\r\nWan 2.2"',
            "low.model_note",
        ),
        (
            "notes/merging.yaml",
            "qualifier: GGUF or the option in the wrapper",
            "qualifier: |-\n      GGUF or the option\n      =====",
            "approaches.1.qualifier",
        ),
    ],
)
def test_single_line_fields_refuse_line_breaks(
    file: str, old: str, new: str, field: str, catalog_root: Path
) -> None:
    """Titles, names, labels and the like end up in headings and table cells: one line only."""
    edit(catalog_root / "data" / file, old, new)
    [problem] = problems_of(catalog_root)
    assert re.fullmatch(
        rf"data/{file}:\d+:\d+: {re.escape(field)}: line break U\+000[AD] \((LINE FEED|CARRIAGE RETURN)\) "
        "is not allowed; the value must be a single line",
        problem,
    ), problem


ESCAPES = [
    (r"\e[31m", "control character U+001B (ESCAPE) is not allowed"),
    (r"\0", "control character U+0000 (NULL) is not allowed"),
    (r"\x7f", "control character U+007F (DELETE) is not allowed"),
    (r"\x9b", "control character U+009B (CONTROL SEQUENCE INTRODUCER) is not allowed"),
    (r"\u202E", "bidirectional control U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed"),
    (r"\u2066", "bidirectional control U+2066 (LEFT-TO-RIGHT ISOLATE) is not allowed"),
    (r"\uFEFF", "byte order mark U+FEFF (ZERO WIDTH NO-BREAK SPACE) is not allowed"),
    (r"\u2028", "line break U+2028 (LINE SEPARATOR) is not allowed"),
    (r"\u200B", "invisible format character U+200B (ZERO WIDTH SPACE) is not allowed"),
    (r"\u200D", "invisible format character U+200D (ZERO WIDTH JOINER) is not allowed"),
    (r"\u2060", "invisible format character U+2060 (WORD JOINER) is not allowed"),
    (r"\uFFF9", "invisible format character U+FFF9 (INTERLINEAR ANNOTATION ANCHOR) is not allowed"),
    (r"\U000E0069", "invisible format character U+E0069 (TAG LATIN SMALL LETTER I) is not allowed"),
    (r"\xAD", "invisible format character U+00AD (SOFT HYPHEN) is not allowed"),
]
# (file, text before the escape, field): a slug, a repo id, a repo path (which the hf command and download
# link are made of), a one-line text, prose and a URL
FIELDS = [
    ("loras/fusionx-t2v-14b.yaml", "id: fusionx", "id"),
    ("loras/fusionx-t2v-14b.yaml", "repo: vrgamedevgirl84/Wan14BT2V", "file.repo"),
    ("loras/fusionx-t2v-14b.yaml", "path: FusionX_LoRa/Wan2.1", "file.path"),
    ("loras/fusionx-t2v-14b.yaml", "family: Fusion", "family"),
    ("loras/fusionx-t2v-14b.yaml", 'comment: "very good', "comment"),
    ("notes/rcm.yaml", "link: https://github.com/NV", "links.0.link"),
]


@pytest.mark.parametrize(("escape", "message"), ESCAPES, ids=[e for e, _ in ESCAPES])
@pytest.mark.parametrize(("file", "before", "field"), FIELDS, ids=[f for _, _, f in FIELDS])
def test_every_string_refuses_escaped_control_characters(
    escape: str, message: str, file: str, before: str, field: str, catalog_root: Path
) -> None:
    """YAML escapes in a double-quoted string pass the YAML reader; validation names what they produce."""
    path = catalog_root / "data" / file
    line = next(line for line in path.read_text().splitlines() if line.lstrip().startswith(before))
    key, _, value = line.partition(": ")
    value = value.strip('"')
    edit(path, line, f'{key}: "{value[:3]}{escape}{value[3:]}"')  # double-quoted: the escape takes effect
    [problem] = problems_of(catalog_root)
    assert re.fullmatch(rf"data/{file}:\d+:\d+: {re.escape(f'{field}: {message}')}(; .*)?", problem), problem


def test_a_lone_surrogate_is_refused_whichever_yaml_reader_parses_the_file(catalog_root: Path) -> None:
    """libyaml refuses a "\\ud800" escape; the pure-Python reader (used when a '*' may start an alias) makes a lone
    surrogate of it, which no UTF-8 page can hold: validation names it instead of the build crashing."""
    path = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    line = next(line for line in path.read_text().splitlines() if line.startswith("comment:"))
    edit(path, line, 'comment: "very *good* \\ud800 for 2.1"')
    [problem] = problems_of(catalog_root)
    assert re.fullmatch(
        r"data/loras/fusionx-t2v-14b\.yaml:\d+:\d+: comment: lone surrogate U\+D800 is not allowed", problem
    ), problem


# --- 3: everything printed is escaped for its sink ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_file_names_and_keys_cannot_write_workflow_commands(fmt: str, catalog_root: Path) -> None:
    """A data file named 'x<newline>::error …' and a key holding ANSI codes are printed on one escaped line."""
    loras = catalog_root / "data" / "loras"
    (loras / "evil\n::error file=README.md::owned.yaml").write_text("id: evil\n")
    edit(loras / "fusionx-t2v-14b.yaml", "family:", '"x\\e[2J\\n::warning::y": 1\nfamily:')
    status, out = run(catalog_root, "validate", "--format", fmt)
    assert status == 1
    assert unsafe_character(out, multiline=True) is None
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[-1] == "2 errors"
    if fmt == "text":
        assert not any(line.startswith("::") for line in lines)
        assert lines[0] == (
            "data/loras/evil\\n::error file=README.md::owned.yaml:1:1: "
            "file name: line break U+000A (LINE FEED) is not allowed; rename the file"
        )
        assert lines[1].startswith(
            "data/loras/fusionx-t2v-14b.yaml:9:1: unknown field 'x\\x1b[2J\\n::warning::y'; allowed: added,"
        )
    else:
        assert all(line.startswith("::error file=data/loras/") for line in lines[:-1])
        assert lines[0].startswith(
            "::error file=data/loras/evil\\n%3A%3Aerror file=README.md%3A%3Aowned.yaml,"
        )


def test_problems_print_as_one_escaped_line() -> None:
    """Problem text and annotations show controls as escapes and encode what workflow commands parse."""
    problem = Problem("data/a\r\n::error::b.yaml", 1, 2, "100% \x1b[31mred\u202e\n::warning::x")
    assert str(problem) == "data/a\\r\\n::error::b.yaml:1:2: 100% \\x1b[31mred\\u202e\\n::warning::x"
    assert problem.github() == (
        "::error file=data/a\\r\\n%3A%3Aerror%3A%3Ab.yaml,line=1,col=2::100%25 \\x1b[31mred\\u202e\\n::warning::x"
    )


# --- 4: look-alike Hub ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "vrgamedevgirl84/Wan14BT2VFusion\u0456X",
            "character U+0456 (CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) at position 32 is not allowed in a "
            "Hub id; use ASCII letters, digits, '-', '_' and '.'",
        ),
        (
            "Kij\u0430i/x",
            "character U+0430 (CYRILLIC SMALL LETTER A) at position 4 is not allowed in a Hub id",
        ),
        (
            "Kijai/Wan\uff3fcomfy",
            "character U+FF3F (FULLWIDTH LOW LINE) at position 10 is not allowed in a Hub id",
        ),
        ("a b/c", "character U+0020 (SPACE) at position 2 is not allowed in a Hub id"),
        ("a/b/c", "a Hub id is 'owner/name' or a user or organisation name: at most one '/'"),
        ("/a", "a Hub id may not have an empty name"),
        ("a--b/c", "a Hub id may not contain '--' or '..'"),
        ("a/b..c", "a Hub id may not contain '--' or '..'"),
        ("-a/b", "a name of a Hub id may not start or end with '-' or '.'"),
        ("a/b.", "a name of a Hub id may not start or end with '-' or '.'"),
        ("a/" + "b" * 97, "a name of a Hub id has at most 96 characters, not 97"),
        ("a/b.git", "a Hub id may not end in '.git'"),
    ],
)
def test_hub_ids_follow_the_hubs_rules(value: str, message: str) -> None:
    """check_hub_id (shared with `add` and the Hub code) refuses what the Hub refuses, naming the fault."""
    with pytest.raises(ValueError, match=re.escape(message)):
        check_hub_id(value)


@pytest.mark.parametrize(
    "value", ["Kijai/WanVideo_comfy", "lightx2v/Wan2.2-Lightning", "_a/b_", "a/" + "b" * 96]
)
def test_real_hub_ids_are_accepted(value: str) -> None:
    """Ordinary repo ids pass both checks; a bare user name is a Hub id but not a repo id."""
    assert check_repo_id(value) == check_hub_id(value) == value
    assert check_hub_id("drnighthan") == "drnighthan"
    with pytest.raises(ValueError, match="exactly one '/'"):
        check_repo_id("drnighthan")


# --- 5: bounded reads, no links or special files in data/ ----------------------------------------------


def test_a_huge_data_file_is_refused_before_it_is_read(catalog_root: Path) -> None:
    """A 4 GB (sparse) data file is refused by its size, under a memory limit far below its size."""
    with (catalog_root / "data" / "loras" / "huge.yaml").open("wb") as file:
        file.truncate(HUGE)
    status, out = run(catalog_root, "validate")
    assert status == 1
    assert out.splitlines() == ["data/loras/huge.yaml:1:1: file is larger than 1,000,000 bytes", "1 error"]


def test_links_and_special_files_in_data_are_refused_unread(catalog_root: Path, tmp_path: Path) -> None:
    """Symbolic links (to a huge file, a folder, a FIFO as snapshot) and FIFOs are named, never followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    with (outside / "huge.yaml").open("wb") as file:
        file.truncate(HUGE)
    os.mkfifo(outside / "fifo")
    data = catalog_root / "data"
    (data / "loras" / "linked.yaml").symlink_to(outside / "huge.yaml")
    (data / "models-old").symlink_to(outside, target_is_directory=True)
    (data / "hub-snapshot.json").symlink_to(outside / "fifo")
    os.mkfifo(data / "special-use" / "pipe.yaml")
    link = "symbolic links are not allowed in data/; put the file itself here"
    expected = [
        f"data/hub-snapshot.json:1:1: {link}",
        f"data/loras/linked.yaml:1:1: {link}",
        f"data/models-old:1:1: {link}",
        "data/special-use/pipe.yaml:1:1: not a regular file; data/ holds plain files and folders only",
        "4 errors",
    ]
    for stage in ("validate", "build"):
        status, out = run(catalog_root, stage)
        assert (status, out.splitlines()) == (1, expected), stage
    assert not (catalog_root / "docs").exists()


def test_read_document_never_follows_a_link_or_opens_a_fifo(tmp_path: Path) -> None:
    """A file swapped for a link or a FIFO after the folder was listed is still refused (and nothing blocks)."""
    target = tmp_path / "real.yaml"
    target.write_text("id: x\n")
    (tmp_path / "link.yaml").symlink_to(target)
    os.mkfifo(tmp_path / "fifo.yaml")
    assert read_document(tmp_path / "link.yaml", "link.yaml") == (
        None,
        [Problem("link.yaml", 1, 1, "symbolic links are not allowed in data/; put the file itself here")],
    )
    assert read_document(tmp_path / "fifo.yaml", "fifo.yaml") == (
        None,
        [Problem("fifo.yaml", 1, 1, "not a regular file; data/ holds plain files and folders only")],
    )


# --- 6: the docs manifest cannot delete files outside docs/ --------------------------------------------


def test_a_hostile_manifest_deletes_nothing_outside_docs(tmp_path: Path) -> None:
    """Paths in docs/.generated that leave docs/ (.., absolute, through a link) survive build and clean."""
    project = make_project(tmp_path)
    readme = project / "README.md"
    readme.write_text("keep me\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim.md"
    victim.write_text("keep me too\n")
    (project / "docs" / "linked").symlink_to(elsewhere, target_is_directory=True)
    hostile = ["../README.md", "loras/../../README.md", str(victim), "linked/victim.md", "."]
    manifest = project / "docs" / ".generated"
    for stage in ("build", "clean"):
        manifest.write_text("\n".join([*hostile, "catalog.md", "loras"]) + "\n")  # loras/ is a folder
        assert main(["--root", str(project), stage]) == 0
        assert readme.read_text() == "keep me\n", stage
        assert victim.read_text() == "keep me too\n", stage
    assert not (project / "docs" / "catalog.md").exists()
    assert main(["--root", str(project), "build"]) == 0
    assert not set(hostile) & set(manifest.read_text().split())


# --- 7: snapshot values reach pages through the same escaping as user text ------------------------------

EVIL = (
    "c653` [x](javascript:alert(1)) ![](https://evil.example/p.gif) `x <b>bold</b> <script>alert(2)</script>"
)
EVIL_LINES = EVIL + "\n\n    code\n~~~\n??? note\n| a | b |\n<img src=https://evil.example/q.gif>"
EVIL_DATE = "![](//e.x)"  # ten characters: what a page shows of a date


def _hostile_snapshot(project: Path) -> Snapshot:
    """A snapshot no validation would accept: hostile strings and an absurd size in every shown field."""
    catalog = load_catalog(project / "data", project)
    first, second, *rest = catalog.loras
    facts = HeaderFacts.model_validate(facts_json(header_for(first), first.file.path))
    hostile_facts = facts.model_copy(
        update={
            "key_format": EVIL,
            "suffix_family": EVIL_LINES,
            "module_families": (EVIL, EVIL_LINES),
            "notes": (EVIL_LINES,),
            "precision": facts.precision.model_copy(update={"label": EVIL}),
            "base_guess": facts.base_guess.model_copy(update={"reason": EVIL_LINES}),
            "fits": {
                arch: v.model_copy(update={"reason": EVIL, "verdict": EVIL}) for arch, v in facts.fits.items()
            },
        }
    )

    def fact(sha256: str) -> LinkFact:
        fields: dict[str, Any] = {
            "status": EVIL,
            "checked_at": EVIL_DATE + EVIL,
            "verified_at": None,
            "size": 10**400,
            "sha256": sha256,
            "gated": EVIL,
            "new_repo": EVIL_LINES,
            "new_path": EVIL_LINES,
        }
        return LinkFact.model_construct(**fields)

    links = {link_key(first.file.link): fact(EVIL), link_key(second.file.link): fact(EVIL_LINES)}
    links |= {link_key(lora.file.link): fact(EVIL + lora.id) for lora in rest}
    headers: dict[str, HeaderFacts | UnreadableHeader] = {
        EVIL: hostile_facts,
        EVIL_LINES: UnreadableHeader.model_construct(unreadable=EVIL_LINES),
    }
    return Snapshot.model_construct(format=1, checked_at=EVIL_DATE + EVIL, links=links, headers=headers)


@pytest.mark.slow
def test_hostile_snapshot_values_stay_text_on_the_built_site(tmp_path: Path) -> None:
    """Markdown, HTML, line breaks and absurd numbers in snapshot fields inject no link, image or element."""
    project = make_project(tmp_path)
    catalog = load_catalog(project / "data", project)
    hostile = render_pages(catalog, _hostile_snapshot(project))
    plain = render_pages(catalog, Snapshot())
    fences = {path: len(re.findall(r"^(?:```|~~~)", text, re.M)) for path, text in plain.items()}
    assert {path: len(re.findall(r"^(?:```|~~~)", text, re.M)) for path, text in hostile.items()} == fences
    write_pages(project / "docs", hostile)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    pages = sorted((project / "site").rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        text, hrefs = page_text(page)
        assert not [href for href in hrefs if "javascript:" in href or "evil" in href or "e.x" in href], page
        assert not re.search(r"<img[^>]+src=\"(?:https?:)?//", html), page
        assert not re.search(r"<(?:b|script)>(?:bold|alert)", html), page
        assert '<details class="note"' not in html, page
        for block in re.findall(r"<pre.*?</pre>", html, re.S):  # only our own commands
            assert "javascript" not in block, page
            assert "evil" not in block, page
    first = project / "site" / "loras" / catalog.loras[0].id / "index.html"
    text, _ = page_text(first)
    assert "c653` [x](javascript:alert(1)) ![](https://evil.example/p.gif) `x <b>bold</b>" in text
    assert "more than 10^100 TB (more than 10^100 bytes)" in text
    assert EVIL_DATE in text


# --- review item 4: YAML tags other than the core schema's scalars ---------------------------------------

BINARY_FAMILY = "FusionX\n\n??? danger\n\n    This LoRA is malware\n\nSecond Heading\n==="
BINARY_COMMENT = "ok \x1b[2J\x1b]8;;https://evil.example\x07 \u202eexe.txt\u2028line-sep\x85NEL"
TAG_REFUSED = "the YAML tag {} is not allowed in data files; write the value without a tag"


def _binary(text: str) -> str:
    return "!!binary " + base64.b64encode(text.encode()).decode()


def test_binary_values_cannot_carry_what_text_may_not(catalog_root: Path) -> None:
    """`!!binary` made bytes, which pydantic turned into text past every check: now the tag itself is refused."""
    lora = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    edit(lora, "family: FusionX", f"family: {_binary(BINARY_FAMILY)}")
    edit(lora, 'comment: "very good for 2.1"', f"comment: {_binary(BINARY_COMMENT)}")
    expected = [
        f"data/loras/fusionx-t2v-14b.yaml:9:9: {TAG_REFUSED.format('!!binary')}",
        f"data/loras/fusionx-t2v-14b.yaml:11:10: {TAG_REFUSED.format('!!binary')}",
        "2 errors",
    ]
    for stage in ("validate", "build"):
        status, out = run(catalog_root, stage)
        assert (status, out.splitlines()) == (1, expected), stage
    assert not (catalog_root / "docs").exists()


@pytest.mark.parametrize(
    ("old", "new", "position", "tag"),
    [
        ("family: FusionX", "family: !!set {FusionX, X}", "9:9", "!!set"),
        ("family: FusionX", "family: !!omap [FusionX: 1]", "9:9", "!!omap"),
        ("family: FusionX", "family: !!pairs [FusionX: 1]", "9:9", "!!pairs"),
        ("family: FusionX", "family: !fusion FusionX", "9:9", "!fusion"),
        (
            "family: FusionX",
            "family: !<tag:evil.example,2026:x> FusionX",
            "9:9",
            "!<tag:evil.example,2026:x>",
        ),
        (
            "family: FusionX",
            "family: !!python/object/apply:os.system [id]",
            "9:9",
            "!!python/object/apply:os.system",
        ),
        ("family: FusionX", "family: FusionX\n!!binary Zm9v: 1", "10:1", "!!binary"),
        ("file:", "file: !!map", None, None),
        ("family: FusionX", "family: !!str FusionX", None, None),
    ],
)
def test_only_the_core_yaml_tags_are_allowed(
    old: str, new: str, position: str | None, tag: str | None, catalog_root: Path
) -> None:
    """Sets, ordered maps, pairs and custom tags are named with their line; !!str, !!map and the like stay fine."""
    edit(catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml", old, new)
    if tag is None:
        load_catalog(catalog_root / "data", catalog_root)
        return
    assert problems_of(catalog_root) == [
        f"data/loras/fusionx-t2v-14b.yaml:{position}: {TAG_REFUSED.format(tag)}"
    ]


def test_a_tag_on_a_list_names_what_it_cannot_mark(catalog_root: Path) -> None:
    """A scalar tag on a list or a mapping is refused too, saying why."""
    edit(catalog_root / "data" / "notes" / "trivia.yaml", "items:", "items: !!str")
    [problem] = problems_of(catalog_root)
    assert problem.endswith(": the YAML tag !!str cannot mark a list; remove it"), problem


@pytest.mark.parametrize(
    "loc", [("family",), ("comment",), ("id",), ("added",), ("new",), ("file", "path"), ("claimed", "rank")]
)
def test_no_model_field_accepts_bytes(loc: tuple[str, ...], catalog_root: Path) -> None:
    """Whoever builds a model from Python data (not YAML) cannot slip bytes past the checks on text either."""
    lora = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    doc, problems = read_document(lora, "lora.yaml")
    assert doc is not None
    assert not problems
    data = doc.data | {"claimed": {"rank": 64}}
    target = data
    for key in loc[:-1]:
        target = target[key]
    target[loc[-1]] = b"64\n# \x1b[2J"
    with pytest.raises(ValidationError) as info:
        m.Lora.model_validate(data)
    [error] = info.value.errors()
    assert (error["loc"], error["msg"]) == (
        loc,
        "Value error, binary data (bytes) is not allowed; write text",
    )


# --- review item 5: numbers without an upper bound ------------------------------------------------------


def write_header_snapshot(root: Path, lora_id: str) -> None:
    """data/hub-snapshot.json as a check would write it: every LoRA 'ok', and the header facts of one of them,
    matching its claims (one header analysed, not the whole catalog's)."""
    catalog = load_catalog(root / "data", root)
    links: dict[str, Any] = {}
    headers: dict[str, Any] = {}
    for index, lora in enumerate(catalog.loras):
        sha256, header = f"{index + 1:064x}", header_for(lora)
        links[link_key(lora.file.link)] = {
            "status": "ok",
            "checked_at": "2026-11-26T12:00:00Z",
            "size": file_size(header),
            "sha256": sha256,
        }
        if lora.id == lora_id:
            headers[sha256] = facts_json(header, lora.file.path)
    assert len(headers) == 1, lora_id
    snapshot = {"format": 1, "checked_at": "2026-11-26T12:00:00Z", "links": links, "headers": headers}
    (root / "data" / "hub-snapshot.json").write_text(json.dumps(snapshot, indent=2) + "\n")


ADAPTIVE = "lightx2v-t2v-14b-cfg-step-distill-adaptive-quantile-0.15"


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        (
            "fusionx-t2v-14b",
            "family: FusionX",
            "family: FusionX\nclaimed:\n  rank: 0x" + "f" * 4000,  # hex escapes Python's 4,300-digit limit
            "11:9: claimed.rank: Input should be less than or equal to 100000; or Input should be 'adaptive'",
        ),
        (
            "fusionx-t2v-14b",
            "family: FusionX",
            "family: FusionX\nclaimed:\n  rank: 1" + "0" * 5000,
            "11:9: claimed.rank: Unable to parse input string as an integer, exceeded maximum size; "
            "or Input should be 'adaptive'",
        ),
        (
            "fusionx-t2v-14b",
            "family: FusionX",
            "family: FusionX\nclaimed:\n  rank: 100001",
            "11:9: claimed.rank: Input should be less than or equal to 100000; or Input should be 'adaptive'",
        ),
        (
            ADAPTIVE,
            "  rank: adaptive",
            "  rank: adaptive\n  average_rank: 1" + "0" * 400,
            "12:17: claimed.average_rank: Input should be less than or equal to 100000",
        ),
    ],
    ids=["hex-rank", "5000-digit-rank", "rank-over-bound", "400-digit-average"],
)
def test_absurd_claimed_ranks_are_refused_never_crash(
    file: str, old: str, new: str, problem: str, catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ranks are bounded (100,000): validate names the field, and build (with header facts to compare) exits 1.
    In this process: a crash would raise out of main; the memory-bounded runs are for inputs that are large."""
    write_header_snapshot(catalog_root, file)
    edit(catalog_root / "data" / "loras" / f"{file}.yaml", old, new)
    for stage in ("validate", "build"):
        status = main(["--root", str(catalog_root), stage])
        out = capsys.readouterr().out
        assert (status, out.splitlines()) == (1, [f"data/loras/{file}.yaml:{problem}", "1 error"]), stage


@pytest.mark.slow  # renders every page of the real catalog in a fresh process
def test_the_largest_claims_still_build(catalog_root: Path) -> None:
    """At the bound, an average rank the header contradicts is shown as a contradiction, not a crash."""
    write_header_snapshot(catalog_root, ADAPTIVE)
    edit(
        catalog_root / "data" / "loras" / f"{ADAPTIVE}.yaml",
        "  rank: adaptive",
        "  rank: adaptive\n  average_rank: 100000",
    )
    assert run(catalog_root, "build")[0] == 0
    page = (catalog_root / "docs" / "loras" / f"{ADAPTIVE}.md").read_text()
    assert "<li>catalog says average rank 100000 but the header&#39;s mean rank is 63.95</li>" in page


@pytest.mark.slow  # renders every page of the real catalog in a fresh process
def test_a_file_name_with_an_absurd_number_claims_nothing(catalog_root: Path) -> None:
    """`dynamic_<400 digits>` in a path overflowed the average-rank comparison; now it only says 'adaptive'."""
    lora = catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml"
    edit(lora, "FusionX_LoRA.safetensors", f"FusionX_LoRA_dynamic_{'9' * 400}.safetensors")
    write_header_snapshot(catalog_root, "fusionx-t2v-14b")
    assert run(catalog_root, "build")[0] == 0
    page = (catalog_root / "docs" / "loras" / "fusionx-t2v-14b.md").read_text()
    assert "name says adaptive rank but every module has rank 64" in page


@pytest.mark.parametrize(
    ("name", "rank", "average", "adaptive"),
    [
        (f"lora_dynamic_{'9' * 5000}.safetensors", None, None, True),
        (f"lora_average_rank_{'1' * 7}_bf16.safetensors", None, None, False),
        (f"lora_rank_{'6' * 4000}_bf16.safetensors", None, None, False),
        (f"lora_r{'4' * 400}_rank_64.safetensors", 64, None, False),
        ("lora_dynamic_999999_rank_64.safetensors", 64, 999_999, True),
    ],
)
def test_claims_from_names_read_at_most_six_digits(
    name: str, rank: int | None, average: int | None, adaptive: bool
) -> None:
    """A longer run of digits is simply no claim: never an exception, never an integer too large to compare."""
    claims = claims_from_filename(name)
    assert (claims.rank, claims.average_rank, claims.rank_adaptive) == (rank, average, adaptive)


# --- review item 9: snapshot notes open no Markdown block -----------------------------------------------

BLOCK_NOTES = (
    "# This file is malware",
    "??? Download-the-fixed-file-from-our-mirror",
    "1986. ordered",
    "-- - ---",
    "Second Heading",
    "===",
    "> quoted",
    "    indented code",
    "| a | b |",
)


@pytest.mark.slow
def test_snapshot_notes_open_no_markdown_block(tmp_path: Path) -> None:
    """A note starting with #, ???, 1., -, =, >, spaces or | is a list item of text, never a heading or block."""
    project = make_project(tmp_path)
    catalog = load_catalog(project / "data", project)
    lora = catalog.loras[0]
    facts = HeaderFacts.model_validate(facts_json(header_for(lora), lora.file.path))
    hostile = facts.model_copy(update={"notes": BLOCK_NOTES})
    fact = LinkFact.model_construct(status="ok", checked_at="2026-11-26T12:00:00Z", sha256="a" * 64)
    snapshot = Snapshot.model_construct(
        format=1, checked_at=None, links={link_key(lora.file.link): fact}, headers={"a" * 64: hostile}
    )
    pages = render_pages(catalog, snapshot)
    assert "<li># This file is malware</li>" in pages[f"loras/{lora.id}.md"]
    write_pages(project / "docs", pages)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    html = (project / "site" / "loras" / lora.id / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert not re.search(r"<h[1-6][^>]*>[^<]*(?:malware|Second Heading)", html)
    section = html.split('<h2 id="what-the-header-says"')[1].split('<h2 id="compatibility"')[0]
    assert not re.search(r"<(?:details|ol|hr|blockquote|pre|table)[ >]", section.split("</table>", 1)[1])
    text, _ = page_text(project / "site" / "loras" / lora.id / "index.html")
    for note in BLOCK_NOTES:
        assert note.strip() in text, note


# --- review item 10: invisible format characters --------------------------------------------------------


def test_zero_width_and_tag_characters_are_refused(catalog_root: Path) -> None:
    """`Fusion<ZWSP>X<TAG i>` looks like FusionX: the first invisible character is named."""
    edit(
        catalog_root / "data" / "loras" / "fusionx-t2v-14b.yaml",
        "family: FusionX",
        r'family: "Fusion\u200bX\U000E0069"',
    )
    assert problems_of(catalog_root) == [
        "data/loras/fusionx-t2v-14b.yaml:9:9: family: invisible format character U+200B (ZERO WIDTH SPACE) "
        "is not allowed"
    ]


def test_every_format_character_is_refused_and_printed_escaped() -> None:
    """Every Cf character of this Python's Unicode data is unsafe, and printable shows each as an escape."""
    format_characters = [
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"
    ]
    assert len(format_characters) > 150
    for char in format_characters:
        assert unsafe_character(f"a{char}b", multiline=True) == char, character_name(char)
        assert unsafe_message(char).endswith(f"{character_name(char)} is not allowed")
        escaped = printable(char)
        assert escaped.startswith("\\"), character_name(char)
        assert unsafe_character(escaped) is None, character_name(char)
    assert printable("X\u200b\U000e0069") == "X\\u200b\\U000e0069"
    assert unsafe_character("FusionX — café ✓ 漢字 🙂") is None


# --- review item 11: build never writes through a link in docs/ -----------------------------------------

LINK_REFUSED = "a symbolic link: files are written only inside docs/, never through a link; remove the link"


@pytest.mark.slow  # renders every page of the real catalog in a fresh process
@pytest.mark.parametrize("linked", ["docs", "docs/loras"])
def test_build_never_writes_through_a_linked_folder(linked: str, catalog_root: Path, tmp_path: Path) -> None:
    """docs/ or docs/loras linked to a folder elsewhere: build names the link, exits 1 and writes nothing;
    clean deletes nothing there."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.md").write_text("keep me\n")
    (outside / ".generated").write_text("keep.md\n")  # a manifest there would have it deleted by clean
    (catalog_root / linked).parent.mkdir(exist_ok=True)
    (catalog_root / linked).symlink_to(outside, target_is_directory=True)
    status, out = run(catalog_root, "build")
    assert (status, out.splitlines()) == (1, [f"{linked}:1:1: {LINK_REFUSED}", "1 error"])
    status, out = run(catalog_root, "clean")  # deletes only what the manifest lists, never through a link
    if linked == "docs":
        assert (status, out.splitlines()) == (1, [f"{linked}:1:1: {LINK_REFUSED}", "1 error"])
    else:
        assert (status, out.splitlines()) == (0, ["removed 0 generated files from docs/"])
    assert sorted(p.name for p in outside.iterdir()) == [".generated", "keep.md"]
    assert (outside / "keep.md").read_text() == "keep me\n"
    status, out = run(catalog_root, "build", "--format", "github")
    assert out.splitlines()[0] == f"::error file={linked},line=1,col=1::{LINK_REFUSED}"


@pytest.mark.slow  # renders every page of the real catalog in a fresh process
def test_build_names_every_link_or_file_in_the_way(catalog_root: Path, tmp_path: Path) -> None:
    """A linked page, a file where a folder belongs and a FIFO where a page belongs: all named, nothing written."""
    victim = tmp_path / "victim.md"
    victim.write_text("keep me\n")
    docs = catalog_root / "docs"
    docs.mkdir()
    (docs / "index.md").symlink_to(victim)
    (docs / "loras").write_text("a file, not a folder\n")
    os.mkfifo(docs / "catalog.md")  # reading it to compare would wait forever
    status, out = run(catalog_root, "build")
    assert status == 1
    assert out.splitlines() == [
        "docs/catalog.md:1:1: not a regular file: a file is written here; move this away",
        f"docs/index.md:1:1: {LINK_REFUSED}",
        "docs/loras:1:1: not a folder: files are written into a folder of this name; move the file away",
        "3 errors",
    ]
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in docs.iterdir()) == ["catalog.md", "index.md", "loras"]


def test_write_pages_refuses_before_writing(tmp_path: Path) -> None:
    """write_pages itself (not only the CLI) raises BlockedWrite before its first write."""
    outside = tmp_path / "outside"
    outside.mkdir()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "loras").symlink_to(outside, target_is_directory=True)
    with pytest.raises(BlockedWrite) as info:
        write_pages(docs, {"index.md": "# Index\n", "loras/x.md": "# X\n"})
    assert [path for path, _ in info.value.blocked] == [docs / "loras"]
    assert list(docs.iterdir()) == [docs / "loras"]
    assert not list(outside.iterdir())
