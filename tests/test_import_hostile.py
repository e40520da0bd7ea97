"""The templates importer under bad input (issue 24): it refuses, names every fault, and never half-writes.

Crafted templates sit beside the real package: in-process through `templates_at`, and end to end through
a stand-in package placed ahead of the real one on PYTHONPATH, so `python -m generator import-templates`
reads it exactly as it reads the installed one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import generator.recipes.write as write_module
from generator.catalog.validate import load_catalog
from generator.errors import DataError
from generator.files import write_atomic
from generator.recipes.importer import (
    MODULE,
    PACKAGE,
    ImportError_,
    import_templates,
    installed,
    templates_at,
)
from generator.recipes.write import Changes, WriteFailed
from tests.fixtures.templates import factory as f

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 30)


@pytest.fixture(name="root")
def _root(tmp_path: Path) -> Path:
    """A project folder holding a copy of the real data/."""
    shutil.copytree(ROOT / "data", tmp_path / "project" / "data")
    return tmp_path / "project"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "data").rglob("*"))
        if p.is_file()
    }


def _import(root: Path, folder: Path, *, allow_removals: bool = False) -> Changes:
    return import_templates(root, DAY, templates_at(folder, "0.0.1"), allow_removals=allow_removals)


def _errors(root: Path, folder: Path) -> list[str]:
    """The problems the import reports, as printed; checks that nothing was written."""
    before = _files(root)
    with pytest.raises(DataError) as caught:
        _import(root, folder)
    assert _files(root) == before
    return [str(problem) for problem in caught.value.problems]


def test_the_real_package_reimports_to_the_same_bytes(root: Path) -> None:
    """Re-running the import on the repository's data writes nothing."""
    before = _files(root)
    assert import_templates(root, DAY + dt.timedelta(days=9)) == Changes()
    assert _files(root) == before


def test_a_crafted_template_imports(root: Path, tmp_path: Path) -> None:
    """The valid crafted template gives a recipe (the baseline every broken copy departs from)."""
    folder = f.write_package(tmp_path / "templates", {f.NAME: f.plain()})
    changes = _import(root, folder, allow_removals=True)
    recipe = (root / "data" / "recipes" / "wan-crafted.yaml").read_text(encoding="utf-8")
    assert root / "data" / "recipes" / "wan-crafted.yaml" in changes.written
    assert "steps: 4\n" in recipe
    assert "cfg: 1.0\n" in recipe
    assert "strength: 1.0\n" in recipe


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("no folder", "has no templates folder at"),
        ("no index", "has no index.json in"),
        ("empty", "no Wan template in"),
        ("no LoRA", "none of the 1 Wan templates"),
    ],
)
def test_an_empty_or_moved_package_is_refused(root: Path, tmp_path: Path, layout: str, message: str) -> None:
    """An empty or moved package used to delete all the recipes and exit 0: now nothing is written (nor when
    its only Wan template is a baseline, which loads no LoRA)."""
    folder = tmp_path / "templates"
    if layout == "no index":
        f.write_package(folder, {f.NAME: f.plain()}, titles=False)
    elif layout == "empty":
        f.write_package(folder, {})
    elif layout == "no LoRA":
        without = f.plain()
        without["nodes"][1]["type"] = "ModelSamplingSD3"  # the LoRA node becomes a shift node
        f.write_package(folder, {f.NAME: without})
    before = _files(root)
    with pytest.raises(ImportError_, match=re.escape(message)):
        _import(root, folder)
    assert _files(root) == before
    assert len([p for p in before if p.startswith("data/recipes/")]) == 23  # 20 with LoRAs, 3 baselines


def _cited(root: Path) -> dict[str, str]:
    """Each recipe file of root's data -> the template it was read from."""
    catalog = load_catalog(root / "data", root)
    return {f"data/recipes/{recipe.id}.yaml": recipe.source.template for recipe in catalog.recipes}


def _versions(root: Path) -> set[str]:
    return {recipe.source.version for recipe in load_catalog(root / "data", root).recipes}


def test_a_package_lacking_the_templates_of_recipes_is_refused(root: Path, tmp_path: Path) -> None:
    """A package holding one crafted template used to delete the 23 recipes whose templates it lacks, printed
    as 'wrote', exit 0: refused, each recipe named with its template, nothing written."""
    cited = _cited(root)
    dropped = f.plain()
    dropped["nodes"][1]["type"] = "ModelSamplingSD3"  # no LoRA node, and its model is no catalogued base:
    dropped["nodes"][0]["widgets_values"][0] = "unknown_model.safetensors"  # it gives no recipe
    folder = f.write_package(tmp_path / "templates", {f.NAME: f.plain(), "video_wan2_2_14B_t2v": dropped})
    before = _files(root)
    with pytest.raises(ImportError_) as caught:
        _import(root, folder)
    assert _files(root) == before
    head, *listed, hint = str(caught.value).split("\n")
    assert head == f"{PACKAGE} 0.0.1 would remove 23 recipes; nothing was written:"
    assert listed == [
        f"  {path}: its template {template} "
        + ("gives no recipe now" if template == "video_wan2_2_14B_t2v" else "is not in the package")
        for path, template in sorted(cited.items())
    ]
    (version,) = _versions(root)
    assert hint == (
        f"they were read from {version}; if 0.0.1 dropped these templates, run again with --allow-removals "
        "to remove these recipes"
    )


def test_removals_a_new_version_is_allowed_are_made_and_told_apart(root: Path, tmp_path: Path) -> None:
    """With --allow-removals and a version other than the recipes', the recipes are removed and returned as
    removed, never as written."""
    cited = _cited(root)
    folder = f.write_package(tmp_path / "templates", {f.NAME: f.plain()})
    changes = _import(root, folder, allow_removals=True)
    assert changes.written == (root / "data" / "recipes" / "wan-crafted.yaml",)
    assert [path.relative_to(root).as_posix() for path in changes.removed] == sorted(cited)
    assert not any(path.exists() for path in changes.removed)


def test_the_same_version_lacking_templates_is_refused_even_when_allowed(root: Path, tmp_path: Path) -> None:
    """The version the recipes were read from cannot have dropped their templates: a damaged or stand-in
    package, refused whatever the flag says."""
    (version,) = _versions(root)
    folder = f.write_package(tmp_path / "templates", {f.NAME: f.plain()})
    before = _files(root)
    with pytest.raises(ImportError_) as caught:
        import_templates(root, DAY, templates_at(folder, version), allow_removals=True)
    assert _files(root) == before
    assert str(caught.value).endswith(
        "they were read from this same version: the package is damaged or not the one installed "
        "(pip install -r requirements/dev.txt -c constraints.txt); --allow-removals is only for a new version"
    )


def _broken(change: str) -> Any:
    """The crafted template with one fault."""
    template = f.plain()
    nodes = {n["id"]: n for n in template["nodes"]}
    if change == "cycle":
        nodes[1]["inputs"] = [{"name": "model", "link": 5}]
        template["links"].append([5, 3, 0, 1, 0, "MODEL"])
    elif change == "no id":
        del nodes[3]["id"]
    elif change == "dangling link":
        template["links"][1] = [2, 99, 0, 3, 0, "MODEL"]
    elif change == "missing link":
        nodes[4]["inputs"][0]["link"] = 77
    elif change == "steps text":
        nodes[4]["widgets_values"][2] = "20"
    elif change == "cfg boolean":
        nodes[4]["widgets_values"][3] = True
    elif change == "strength text":
        nodes[2]["widgets_values"][1] = "1.0"
    elif change == "lora number":
        nodes[2]["widgets_values"][0] = 5
    elif change == "steps negative":
        nodes[4]["widgets_values"][2] = -4
    elif change == "steps 10**30":
        nodes[4]["widgets_values"][2] = 10**30
    elif change == "cfg negative":
        nodes[4]["widgets_values"][3] = -1.0
    elif change == "strength 1e400":  # JSON has no infinity: 1e400 is read as one
        nodes[2]["widgets_values"][1] = 0.123456789
        return json.dumps(template, indent=1).replace("0.123456789", "1e400")
    elif change == "width negative":
        nodes[5]["widgets_values"][0] = -832
    elif change == "lora widgets object":
        nodes[2]["widgets_values"] = {"lora_name": f.LORA, "strength_model": 1.0}
    elif change == "lora empty":
        nodes[2]["widgets_values"][0] = ""
    elif change == "lora not given":
        nodes[2]["widgets_values"] = []
    elif change == "self subgraph":
        template["definitions"] = {
            "subgraphs": [{"id": "loop", "name": "Loop", "nodes": [f.node(1, "loop")]}]
        }
    return template


BROKEN = {
    "cycle": "the links of nodes 1, 2, 3 form a cycle",
    "no id": "node #3 (ModelSamplingSD3) has no numeric id",
    "dangling link": "link 2 comes from node 99, which is not in the graph",
    "missing link": "node 4 (KSampler): input 'model' takes link 77, which the graph lacks",
    "steps text": "node 4 (KSampler): 'steps' is the text '20', where a number belongs",
    "cfg boolean": "node 4 (KSampler): 'cfg' is the boolean true, where a number belongs",
    "strength text": "node 2 (LoraLoaderModelOnly): 'strength_model' is the text '1.0', where a number belongs",
    "lora number": "node 2 (LoraLoaderModelOnly): 'lora_name' is a number, where text belongs",
    "steps negative": "node 4 (KSampler): 'steps' is -4, where a whole number from 1 to 10000 belongs",
    "steps 10**30": (
        "node 4 (KSampler): 'steps' is a whole number of 31 digits, where a whole number from 1 to 10000 belongs"
    ),
    "cfg negative": "node 4 (KSampler): 'cfg' is -1.0, where a number from 0 to 100 belongs",
    "strength 1e400": (
        "node 2 (LoraLoaderModelOnly): 'strength_model' is infinite (a number too large for a float), where a "
        "number from -100 to 100 belongs"
    ),
    "width negative": (
        "node 5 (EmptyHunyuanLatentVideo): 'width' is -832, where a whole number from 1 to 100000 belongs"
    ),
    "lora widgets object": "node 2 (LoraLoaderModelOnly): its widgets_values are a JSON object, where a list belongs",
    "lora empty": "node 2 (LoraLoaderModelOnly): 'lora_name' is empty, where a file name belongs",
    "lora not given": "node 2 (LoraLoaderModelOnly): 'lora_name' is not given, where a file name belongs",
    "self subgraph": "subgraph 'Loop' contains itself through its subgraph nodes",
}


@pytest.mark.parametrize("change", sorted(BROKEN))
def test_a_broken_template_is_named_with_its_node(root: Path, tmp_path: Path, change: str) -> None:
    """Each fault is one `path:line:col: message` naming the template and the node; nothing is written."""
    folder = f.write_package(tmp_path / "templates", {f.NAME: _broken(change)})
    errors = _errors(root, folder)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{folder.as_posix()}/{f.NAME}.json:")
    assert errors[0].endswith(BROKEN[change])


def test_the_error_points_at_the_node(root: Path, tmp_path: Path) -> None:
    """The line and column are those of the node's opening brace in the file."""
    folder = f.write_package(tmp_path / "templates", {f.NAME: _broken("steps text")})
    text = (folder / f"{f.NAME}.json").read_text(encoding="utf-8")
    lines = text.split("\n")
    line = next(i for i, row in enumerate(lines) if '"type": "KSampler"' in row) - 1  # the line above: "id"
    assert lines[line - 1].strip() == "{"
    (error,) = _errors(root, folder)
    assert error.split(": ", 1)[0].endswith(f".json:{line}:{lines[line - 1].index('{') + 1}")


DEEP = b'{"nodes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
"""100,000 levels of [[[…]]]: json's recursive decoder used to raise RecursionError (a traceback, exit 2)."""


def test_a_recipe_that_would_not_validate_is_reported_at_its_template(root: Path, tmp_path: Path) -> None:
    """A value the reader takes from a note rather than a node (here 0 steps) and the recipe refuses: named
    at the template, with the recipe it would give, not at a recipe file that does not exist yet."""
    template = f.plain()
    template["nodes"].append(f.node(7, "MarkdownNote", ["## With the 4-step LoRA\n- steps: 0\n- cfg: 1.0\n"]))
    folder = f.write_package(tmp_path / "templates", {f.NAME: template})
    assert _errors(root, folder) == [
        f"{folder.as_posix()}/{f.NAME}.json:1:1: its recipe data/recipes/wan-crafted.yaml would not validate: "
        "lora_path.stages.0.steps: Input should be greater than or equal to 1"
    ]


RAW = {
    "nan": (
        b'{"nodes": [{"id": 1, "type": "LoraLoaderModelOnly", "widgets_values": ["a", NaN]}]}',
        ":1:77: NaN is not a JSON number",
    ),
    "infinity": (b'{"nodes": [], "pos": [\n  -Infinity]}', ":2:3: -Infinity is not a JSON number"),
    "not utf-8": (b'{"nodes": [],\n "title": "caf\xe9"}', ":2:15: byte 0xe9 is not UTF-8"),
    "not json": (b'{"nodes": [}', ":1:12: not JSON: Expecting value"),
    "not an object": (b"[1, 2]", ":1:1: the template is not a JSON object"),
    "5,001 digits": (
        b'{"nodes": [1' + b"0" * 5000 + b"]}",
        ":1:12: a whole number of 5001 digits: more than any value a template holds",
    ),
    "200,000 open quotes": (  # read by the decoder first: a scan of strings would take minutes on it
        b'"\\' * 200_000,
        ":1:1: not JSON: Unterminated string starting at",
    ),
    "nested 100,000 deep": (
        DEEP,
        ":1:110: arrays and objects nest more than 100 deep (the package's own files: about 10)",
    ),
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_a_file_that_is_not_strict_json_is_named(root: Path, tmp_path: Path, case: str) -> None:
    """NaN, Infinity, bytes that are not UTF-8 and broken JSON: one error at the place in the file."""
    raw, expected = RAW[case]
    folder = f.write_package(tmp_path / "templates", {f.NAME: raw, "video_wan_ok": f.plain()})
    (error,) = _errors(root, folder)
    assert f"{f.NAME}.json{expected}" in error


def test_every_broken_template_is_reported_at_once(root: Path, tmp_path: Path) -> None:
    """All faults of all templates in one run, each naming its template; the good ones are not written."""
    templates: dict[str, Any] = {f"video_wan_{name.replace(' ', '_')}": _broken(name) for name in BROKEN}
    templates.update({f"video_wan_raw_{name.replace(' ', '_')}": raw for name, (raw, _) in RAW.items()})
    templates["video_wan_good"] = f.plain()
    folder = f.write_package(tmp_path / "templates", templates)
    errors = _errors(root, folder)
    assert len(errors) == len(BROKEN) + len(RAW)
    named = {re.sub(r"\.json:.*", "", error.rsplit("/", 1)[-1]) for error in errors}
    assert named == set(templates) - {"video_wan_good"}
    assert not (root / "data" / "recipes" / "wan-good.yaml").exists()


def test_a_failure_half_way_restores_every_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All or nothing: the 16th of 20 writes fails; the 15 files written before it get their old text."""
    for path in (root / "data" / "recipes").glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    before = _files(root)
    calls: list[Path] = []

    def failing(path: Path, text: str, *, durable: bool = True) -> bool:
        calls.append(path)
        if len(calls) == 16:
            raise OSError(28, "No space left on device")
        return write_atomic(path, text, durable=durable)

    monkeypatch.setattr(write_module, "write_atomic", failing)
    with pytest.raises(WriteFailed, match="the 15 files changed before it were restored"):
        import_templates(root, DAY)
    assert _files(root) == before
    assert len(calls) == 16 + 15  # 16 tries, then 15 restorations


def test_a_blocked_target_stops_the_import_before_any_write(root: Path) -> None:
    """A folder where a recipe file belongs is reported; no other file is written either."""
    target = root / "data" / "recipes" / "wan2-2-14b-t2v.yaml"
    target.unlink()
    target.mkdir()
    (root / "data" / "recipes" / "wan2-2-14b-i2v.yaml").write_text("# stale\n", encoding="utf-8")
    before = _files(root)
    with pytest.raises(DataError, match="1 error"):
        import_templates(root, DAY)
    assert _files(root) == before


def _stand_in(tmp_path: Path, templates: dict[str, Any] | None) -> Path:
    """A package of the same name and module ahead of the real one (templates=None: no templates folder)."""
    site = tmp_path / "site"
    module = site / MODULE
    module.mkdir(parents=True)
    (module / "__init__.py").write_text('"""A stand-in."""\n', encoding="utf-8")
    info = site / f"{MODULE}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.0.1\n", encoding="utf-8"
    )
    if templates is not None:
        f.write_package(module / "templates", templates)
    return site


def _run(root: Path, site: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    command = ["--root", str(root), "import-templates", "--date", "2026-11-30", *options]
    return subprocess.run(
        [sys.executable, "-m", "generator", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("templates", [None, {}], ids=["moved", "empty"])
def test_the_command_refuses_an_empty_or_moved_package(
    root: Path, tmp_path: Path, templates: dict[str, Any] | None
) -> None:
    """End to end: exit 2 with one line saying why, no traceback, data/ untouched."""
    before = _files(root)
    result = _run(root, _stand_in(tmp_path, templates))
    assert result.returncode == 2, result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _files(root) == before


def test_the_command_reports_every_fault_and_exits_1(root: Path, tmp_path: Path) -> None:
    """End to end: one `path:line:col: message` line per fault, the count, exit 1, data/ untouched."""
    before = _files(root)
    site = _stand_in(tmp_path, {"video_wan_cycle": _broken("cycle"), "video_wan_nan": RAW["nan"][0]})
    result = _run(root, site)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 errors"
    assert all(re.match(r".+/video_wan_(cycle|nan)\.json:\d+:\d+: ", line) for line in lines[:-1]), lines
    assert "Traceback" not in result.stderr + result.stdout
    assert _files(root) == before


def test_the_command_refuses_removals_and_prints_allowed_ones_as_removed(root: Path, tmp_path: Path) -> None:
    """End to end, the stand-in holding one crafted template: exit 2 and nothing written; with --allow-removals
    one 'wrote' line for the new recipe, one 'removed' line per recipe removed, and the counts."""
    cited = _cited(root)
    before = _files(root)
    site = _stand_in(tmp_path, {f.NAME: f.plain()})
    refused = _run(root, site)
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    assert (
        f"import-templates: {PACKAGE} 0.0.1 would remove 23 recipes; nothing was written:" in refused.stderr
    )
    assert "run again with --allow-removals" in refused.stderr
    assert _files(root) == before
    allowed = _run(root, site, "--allow-removals")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == [
        "wrote data/recipes/wan-crafted.yaml",
        *(f"removed {path}" for path in sorted(cited)),
        "import-templates: 1 written, 23 removed",
    ]
    assert sorted(set(before) - set(_files(root))) == sorted(cited)


@pytest.mark.parametrize("where", ["template", "index"])
def test_the_command_names_a_file_nested_too_deep(root: Path, tmp_path: Path, where: str) -> None:
    """End to end: a template's nodes or the package's index.json nested 100,000 deep is one error at the
    bracket that goes too deep, naming the file, exit 1 (it was 'internal error; please report it', exit 2)."""
    before = _files(root)
    site = _stand_in(tmp_path, {f.NAME: DEEP if where == "template" else f.plain()})
    index = site / MODULE / "templates" / "index.json"
    if where == "index":
        index.write_bytes(b"[" + DEEP + b"]")
    result = _run(root, site)
    assert result.returncode == 1, result.stderr
    file = f"{f.NAME}.json:1:110" if where == "template" else "index.json:1:110"
    assert result.stdout.splitlines() == [
        f"{index.parent.as_posix()}/{file}: arrays and objects nest more than 100 deep "
        "(the package's own files: about 10)",
        "1 error",
    ]
    assert "Traceback" not in result.stderr + result.stdout
    assert _files(root) == before


def test_the_installed_package_is_the_pinned_one() -> None:
    """The real package is read through the same function the stand-ins go through."""
    assert installed().folder.name == "templates"
    assert json.loads((installed().folder / "index.json").read_text(encoding="utf-8"))
