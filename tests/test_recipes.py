"""The importer of ComfyUI's official workflow templates, run on the real installed package."""

from __future__ import annotations

import datetime as dt
import html
import importlib.metadata
import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator.catalog.snapshot import SNAPSHOT_FILE, load_snapshot
from generator.catalog.validate import load_catalog
from generator.errors import DataError
from generator.recipes.importer import PACKAGE, import_templates, installed
from generator.recipes.recipe import rounded
from generator.recipes.write import Changes
from generator.site.render import render_pages
from tests.importing import DAY, ROOT, import_afresh, read_recipe


@pytest.fixture(name="fresh", scope="module")
def _fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's data without the recipes and without the LoRA entries the importer first wrote."""
    return import_afresh(tmp_path_factory.mktemp("fresh"), without_written_loras=True)


def test_output_validates_and_matches_the_committed_data(imported: Path) -> None:
    """The import validates as a catalog, and equals what is committed (regenerated for this version); every
    LoRA file a template downloads is catalogued already, so no entry is written."""
    catalog = load_catalog(imported / "data", imported)
    assert len(catalog.recipes) >= 15
    for folder in ("recipes", "loras"):
        written = sorted(p.name for p in (imported / "data" / folder).glob("*.yaml"))
        assert written == sorted(p.name for p in (ROOT / "data" / folder).glob("*.yaml")), folder
        for name in written:
            fresh = re.sub(
                r"(?m)^added: .*$", "", (imported / "data" / folder / name).read_text(encoding="utf-8")
            )
            kept = re.sub(r"(?m)^added: .*$", "", (ROOT / "data" / folder / name).read_text(encoding="utf-8"))
            assert fresh == kept, f"data/{folder}/{name} differs: run python -m generator import-templates"


def test_a_fresh_import_writes_each_template_lora_once(fresh: Path) -> None:
    """Without the entries it first wrote, the importer writes them again from the file names alone: one per
    place (it cannot know that Comfy-Org's rank-64 copy is Kijai's file: a curator or `add` makes it a mirror),
    each with a task its name, its model or its template's name states, never a fallback."""
    catalog = load_catalog(fresh / "data", fresh)
    written = {lora.id: lora for lora in catalog.loras if lora.source == "official-templates"}
    assert "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16-comfy-org" in written
    assert written["wan2.1-scail-2-dpo-lora-bf16"].task == catalog.model("scail-2").task
    assert all(lora.release is None and not lora.mirrors for lora in written.values())
    header = (fresh / "data" / "loras" / "wan2.1-scail-2-dpo-lora-bf16.yaml").read_text(encoding="utf-8")
    assert "edit it like any entry (the importer never rewrites it)" in header.splitlines()[1]


def test_wan22_i2v_recipe_has_the_template_loras_and_settings(imported: Path) -> None:
    """Wan 2.2 I2V A14B: the 4-step LoRAs at 1.0 per expert, 4 steps, CFG 1, shift 5, split at step 2."""
    recipe = read_recipe(imported, "wan2-2-14b-i2v")
    assert recipe.architecture == "wan2.2-i2v-a14b"
    assert recipe.variant is None
    high, low = recipe.lora_path.stages
    assert (high.expert, low.expert) == ("high", "low")
    assert [u.file for u in high.loras] == ["wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors"]
    assert [u.file for u in low.loras] == ["wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors"]
    assert high.loras[0].lora == "wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise"
    assert [u.strength for u in (*high.loras, *low.loras)] == [1.0, 1.0]
    assert (high.steps, high.cfg, high.shift, high.end_step) == (4, 1.0, 5.0, 2)
    assert (low.steps, low.cfg, low.shift, low.start_step) == (4, 1.0, 5.0, 2)
    assert recipe.default_path is not None
    default_high = recipe.default_path.stages[0]
    assert (default_high.steps, default_high.cfg, default_high.end_step, default_high.loras) == (
        20,
        3.5,
        10,
        (),
    )
    assert recipe.source.package == PACKAGE
    assert recipe.source.template == "video_wan2_2_14B_i2v"


def test_bypassed_lora_nodes_are_reported(imported: Path) -> None:
    """The flf2v template ships its LoRA nodes bypassed: the recipe says so on each use and in a note."""
    recipe = read_recipe(imported, "wan2-2-14b-flf2v")
    uses = [use for stage in recipe.lora_path.stages for use in stage.loras]
    assert uses
    assert all(use.bypassed for use in uses)
    assert any("bypassed" in note for note in recipe.notes)


def test_no_float_noise_in_data_or_pages(imported: Path) -> None:
    """1.0000000000000002 is written as 1.0, and no page shows a long decimal tail."""
    assert rounded(1.0000000000000002) == 1.0
    assert rounded(5.000000000000001) == 5.0
    assert rounded(0.30000000000000004) == 0.3
    for path in (imported / "data" / "recipes").glob("*.yaml"):
        assert not re.search(
            r"(?m)^\s*(?:strength|cfg|shift): \d+\.\d{3,}", path.read_text(encoding="utf-8")
        ), path.name
    catalog = load_catalog(imported / "data", imported)
    snapshot = load_snapshot(imported / "data" / SNAPSHOT_FILE, SNAPSHOT_FILE)
    pages = render_pages(catalog, snapshot)
    setups = html.unescape(re.sub(r' data-label="[^"]*"', "", pages["setups.md"]))  # no labels for phones
    assert not re.search(r"\d\.\d{5,}", setups)
    assert f"{PACKAGE}</code> version {installed().version}" in setups
    i2v = setups.split("## Wan 2.2 I2V A14B", 1)[1].split("\n## ", 1)[0]
    assert "wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise/" in i2v
    assert "@ 1.0" in i2v
    assert "<td>4</td><td>1</td><td>euler / simple</td><td>5</td>" in i2v
    ti2v = setups.split("## Wan 2.2 TI2V 5B", 1)[1].split("\n## ", 1)[0]
    assert "the model on its own, without a LoRA" in ti2v
    assert "<td>20</td><td>5</td><td>uni_pc / simple</td><td>8</td>" in ti2v
    lora_page = pages["loras/wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise.md"]
    assert "Wan 2\\.2 14B Image to Video" in lora_page
    assert "on the high-noise expert at 1.0" in lora_page


def test_a_second_run_writes_nothing(imported: Path) -> None:
    """Re-running the importer on the same package version changes no file."""
    assert import_templates(imported, DAY + dt.timedelta(days=3)) == Changes()


def test_committed_recipes_name_the_pinned_version() -> None:
    """A new pin of the package fails here until the recipes are regenerated."""
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    pinned = re.search(rf"(?m)^{PACKAGE}==(\S+)", pins)
    assert pinned, f"{PACKAGE} is not pinned in constraints.txt"
    assert importlib.metadata.version(PACKAGE) == pinned.group(1)
    catalog = load_catalog(ROOT / "data", ROOT)
    assert catalog.recipes
    assert {recipe.source.version for recipe in catalog.recipes} == {pinned.group(1)}


def test_each_base_model_page_has_its_setups() -> None:
    """Each Wan 2.2 I2V A14B expert's page names the official template's LoRAs per expert, cited; TI2V 5B has
    its baseline's numbers."""
    catalog = load_catalog(ROOT / "data", ROOT)
    pages = render_pages(catalog, load_snapshot(ROOT / "data" / SNAPSHOT_FILE))
    for expert in ("high", "low"):
        i2v = pages[f"models/wan22-i2v-a14b-{expert}.md"].replace("\\", "")
        section = i2v.split("## Setups", 1)[1]
        assert "high expert ← wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors @ 1.0" in section
        assert "low expert ← wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors @ 1.0" in section
        assert f"Source: {PACKAGE} {installed().version}" in section
    ti2v = pages["models/wan22-ti2v-5b.md"].split("## Setups", 1)[1]
    assert "model ← no LoRA, 20 steps, CFG 5, shift 8" in ti2v


@pytest.mark.parametrize(
    ("line", "bad", "message"),
    [
        (
            "      strength: 1.0",
            "      strength: true",
            "lora_path.stages.0.loras.0.strength: Input should be a valid number",
        ),
        ("    steps: 4", "    steps: true", "lora_path.stages.0.steps: Input should be a valid integer"),
        ("    cfg: 1.0", '    cfg: "1.5"', "lora_path.stages.0.cfg: Input should be a valid number"),
        ("    steps: 4", "    steps: 4.0", "lora_path.stages.0.steps: Input should be a valid integer"),
        (
            "      strength: 1.0",
            '      strength: 1.0\n      bypassed: "yes"',
            "lora_path.stages.0.loras.0.bypassed: Input should be a valid boolean",
        ),
        ("width: 640", "width: true", "width: Input should be a valid integer"),
    ],
)
def test_recipe_types_are_strict(tmp_path: Path, line: str, bad: str, message: str) -> None:
    """`strength: true`, `steps: true`, `cfg: "1.5"`, `bypassed: "yes"`: refused at their line and column."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    path = tmp_path / "data" / "recipes" / "wan2-2-14b-i2v.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"\n{line}\n" in text
    path.write_text(text.replace(f"\n{line}\n", f"\n{bad}\n", 1), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    row = next(i for i, found in enumerate(lines) if found == bad.split("\n")[-1]) + 1
    col = len(bad.split("\n")[-1].split(": ")[0]) + 3
    with pytest.raises(DataError) as caught:
        load_catalog(tmp_path / "data", tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"data/recipes/wan2-2-14b-i2v.yaml:{row}:{col}: {message}"
    ]


def test_stages_that_all_fail_are_not_also_too_few(tmp_path: Path) -> None:
    """`steps: 4.0` on both stages of a path and `strength: 1e400`: one error per value, and no false 'Tuple
    should have at least 1 item after validation, not 0' for the path whose stages are there but failed."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    path = tmp_path / "data" / "recipes" / "wan2-2-14b-t2v.yaml"
    text = path.read_text(encoding="utf-8")
    lora_path, rest = text.split("\ndefault_path:", 1)
    assert lora_path.count("\n    steps: 4\n") == 2
    lora_path = lora_path.replace("\n    steps: 4\n", "\n    steps: 4.0\n").replace(
        "\n      strength: 1.0\n", "\n      strength: 1e400\n", 1
    )
    path.write_text(f"{lora_path}\ndefault_path:{rest}", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_catalog(tmp_path / "data", tmp_path)
    assert [p.message for p in caught.value.problems] == [
        "lora_path.stages.0.loras.0.strength: Input should be a valid number",
        "lora_path.stages.0.steps: Input should be a valid integer",
        "lora_path.stages.1.steps: Input should be a valid integer",
    ]


def test_a_path_without_stages_is_still_too_short(tmp_path: Path) -> None:
    """The error stays where the list itself is too short."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    path = tmp_path / "data" / "recipes" / "wan2-2-14b-t2v.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["lora_path"]["stages"] = []
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_catalog(tmp_path / "data", tmp_path)
    assert [p.message for p in caught.value.problems] == [
        "lora_path.stages: Tuple should have at least 1 item after validation, not 0"
    ]
