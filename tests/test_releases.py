"""Issue 21: one LoRA in several places (mirrors), releases, a setup for every base model, files ComfyUI loads.

Offline: validation of the new fields at their line, the identity of two places as the snapshot tells it, the
releases' relations, the importer's baselines and its refusal to guess a task, and the pages built from data/.
The Hub side (`add`, `check`, discovery) is in tests/test_mirrors_hub.py.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from generator.catalog.identity import entry_identity, identity_warnings, mirror_identity, namesakes
from generator.catalog.models import HfLink
from generator.catalog.releases import files_of, other_versions, version_label
from generator.catalog.snapshot import LinkFact, Snapshot, link_key
from generator.catalog.validate import Catalog, load_catalog
from generator.cli import main
from generator.errors import DataError
from generator.hub.collect import catalog_links
from generator.recipes.importer import import_templates, templates_at
from generator.site.filters import md
from tests.fixtures.templates import factory as f

ROOT = Path(__file__).resolve().parent.parent
RANK64 = "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16"
KIJAI = ("Kijai/WanVideo_comfy", "Lightx2v/lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors")
COMFY = ("Comfy-Org/Wan-Animate-2", "loras/lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors")
SHA_A, SHA_B = "a" * 64, "b" * 64
DYNO = "wan22-t2v-a14b-4steps-250928-dyno-high"


@pytest.fixture(name="root")
def _root(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def _errors(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["--root", str(root), "validate"]) == 1
    return capsys.readouterr().out.splitlines()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _fact(sha: str | None, verified: str = "2026-12-01T08:00:00Z") -> LinkFact:
    return LinkFact(status="ok", checked_at="2026-11-30T08:00:00Z", verified_at=verified, sha256=sha)


def _snapshot(facts: dict[tuple[str, str], LinkFact]) -> Snapshot:
    return Snapshot(
        links={link_key(HfLink(kind="file", repo=r, path=p)): fact for (r, p), fact in facts.items()}
    )


# --- validation ----------------------------------------------------------------------------------------------


def test_an_unknown_release_is_refused_at_its_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lora = root / "data" / "loras" / "wan22-a14b-t2v-low-lightning-4steps-250928.yaml"
    _edit(lora, "release: wan2.2-lightning-t2v-250928", "release: wan2.2-lightning-t2v-25092")
    line = lora.read_text().splitlines().index("release: wan2.2-lightning-t2v-25092") + 1
    assert _errors(root, capsys) == [
        f"data/loras/wan22-a14b-t2v-low-lightning-4steps-250928.yaml:{line}:10: unknown release "
        "'wan2.2-lightning-t2v-25092' (no data/releases/wan2.2-lightning-t2v-25092.yaml); did you mean "
        "'wan2.2-lightning-t2v-250928'?",
        "1 error",
    ]


def test_the_files_of_one_release_are_one_family(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Filing one release under two families (lightx2v and Lightning, as the catalog did) is refused."""
    lora = root / "data" / "loras" / "wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise.yaml"
    _edit(lora, "family: Lightning ", "family: lightx2v ")
    line = next(i for i, text in enumerate(lora.read_text().splitlines(), 1) if text.startswith("family:"))
    errors = _errors(root, capsys)
    assert errors[0] == (
        f"data/loras/wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise.yaml:{line}:9: release "
        "'wan2.2-lightning-t2v-v1.1' is family 'Lightning' in "
        "data/loras/wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise.yaml: the files of one release are one family"
    )


def test_a_place_is_catalogued_once(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An entry whose file is another entry's mirror: the later listing (in path order) is refused at its line,
    here the mirror's, as a repeated file is."""
    (root / "data" / "loras" / "copy.yaml").write_text(
        f"id: copy\nfile:\n  repo: {COMFY[0]}\n  path: {COMFY[1]}\ngeneration: '2.1'\ntask: I2V\n"
        "family: lightx2v\nadded: 2026-12-06\n",
        encoding="utf-8",
    )
    line = (root / "data" / "loras" / f"{RANK64}.yaml").read_text().splitlines().index(
        f"- repo: {COMFY[0]}"
    ) + 1
    assert _errors(root, capsys) == [
        f"data/loras/{RANK64}.yaml:{line}:3: the same file is already listed in data/loras/copy.yaml",
        "1 error",
    ]


def test_a_mirror_repeating_its_file_is_refused(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lora = root / "data" / "loras" / f"{RANK64}.yaml"
    _edit(lora, f"- repo: {COMFY[0]}\n  path: {COMFY[1]}", f"- repo: {KIJAI[0]}\n  path: {KIJAI[1]}")
    assert _errors(root, capsys) == [
        f"data/loras/{RANK64}.yaml:3:1: file: a mirror repeats the file or another mirror",
        "1 error",
    ]


def test_a_catalogued_mirror_cannot_be_dismissed(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "data" / "dismissed.yaml").write_text(
        f"files:\n- repo: {COMFY[0]}\n  path: {COMFY[1]}\n  reason: a duplicate\n  dismissed: 2026-12-06\n",
        encoding="utf-8",
    )
    assert _errors(root, capsys) == [
        f"data/dismissed.yaml:3:9: data/loras/{RANK64}.yaml catalogues this file: remove this dismissal or that "
        "entry",
        "1 error",
    ]


# --- identity ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kijai", "comfy", "state", "text"),
    [
        (None, SHA_A, "unchecked", "same file name as {kijai}; identity not yet checked"),
        (SHA_A, None, "unchecked", "same file name as {kijai}; identity not yet checked"),
        (SHA_A, SHA_A, "identical", f"identical bytes (sha256 {SHA_A}, checked 2026-12-03)"),
        (SHA_A, SHA_B, "different", f"different bytes from {{kijai}} (sha256 {SHA_B} here, {SHA_A} there, "),
    ],
)
def test_a_mirror_is_the_same_file_only_by_its_sha256(
    catalog: Catalog, kijai: str | None, comfy: str | None, state: str, text: str
) -> None:
    """Unknown until both sha256 are known; identical bytes with the later check's date; or different."""
    snapshot = _snapshot({KIJAI: _fact(kijai), COMFY: _fact(comfy, "2026-12-03T09:00:00Z")})
    lora = catalog.lora(RANK64)
    found = mirror_identity(snapshot, lora, lora.mirrors[0])
    assert found.state == state
    assert found.text.startswith(text.format(kijai="/".join(KIJAI)))
    warnings = [message for _, message in identity_warnings(catalog, snapshot)]
    assert any("it is no mirror" in message for message in warnings) == (state == "different")


def test_two_entries_of_one_file_are_shown_as_one_lora_listed_twice(root: Path) -> None:
    """Before the migration the rank-64 file was two entries: same name, then identical bytes, then a warning."""
    lora = root / "data" / "loras" / f"{RANK64}.yaml"
    text = lora.read_text(encoding="utf-8")
    mirror = f"mirrors:  # the same file, published again (the Hub check compares the sha256)\n- repo: {COMFY[0]}\n  path: {COMFY[1]}\n"
    lora.write_text(text.replace(mirror, ""), encoding="utf-8")
    (root / "data" / "loras" / "copy.yaml").write_text(
        f"id: copy\nfile:\n  repo: {COMFY[0]}\n  path: {COMFY[1]}\ngeneration: '2.1'\ntask: I2V\n"
        "family: lightx2v\nadded: 2026-12-06\n",
        encoding="utf-8",
    )
    catalog = load_catalog(root / "data", root)
    assert [other.id for other in namesakes(catalog)[RANK64]] == ["copy"]
    before = entry_identity(Snapshot(), catalog.lora("copy"), catalog.lora(RANK64))
    assert before.text == f"same file name as {RANK64} ({'/'.join(KIJAI)}); identity not yet checked"
    snapshot = _snapshot({KIJAI: _fact(SHA_A), COMFY: _fact(SHA_A)})
    after = entry_identity(snapshot, catalog.lora("copy"), catalog.lora(RANK64))
    assert (
        after.text
        == f"identical bytes to {RANK64} (sha256 {SHA_A}, checked 2026-12-01): one LoRA listed twice"
    )
    (lora_of, message), *rest = identity_warnings(catalog, snapshot)
    assert rest == []
    assert lora_of.id == "copy"
    assert message.endswith(
        f"list {'/'.join(KIJAI)} as a mirror of this entry and remove data/loras/{RANK64}.yaml"
    )


# --- releases ------------------------------------------------------------------------------------------------


def test_the_lightning_release_is_one_family_in_three_versions(catalog: Catalog) -> None:
    """lightx2v's Wan2.2-Lightning: Comfy-Org's v1 / v1.1 and Kijai's 250928 files, each version high and low."""
    versions = {release.id: files_of(catalog, release) for release in catalog.releases}
    assert {key: sorted(lora.id for lora in loras) for key, loras in versions.items()} == {
        "wan2.2-lightning-i2v-v1": [
            "wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise",
            "wan2.2-i2v-lightx2v-4steps-lora-v1-low-noise",
        ],
        "wan2.2-lightning-t2v-250928": [
            "wan22-a14b-t2v-high-lightning-4steps-250928",
            "wan22-a14b-t2v-low-lightning-4steps-250928",
        ],
        "wan2.2-lightning-t2v-v1.1": [
            "wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise",
            "wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise",
        ],
    }
    assert {lora.family for loras in versions.values() for lora in loras} == {"Lightning"}
    kijai = catalog.release("wan2.2-lightning-t2v-250928")
    assert [r.id for r in other_versions(catalog, kijai)] == [
        "wan2.2-lightning-i2v-v1",
        "wan2.2-lightning-t2v-v1.1",
    ]


def test_a_setting_cited_for_one_version_is_labelled_on_another(catalog: Catalog) -> None:
    comfy, kijai = (
        catalog.lora("wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise"),
        catalog.lora("wan22-a14b-t2v-high-lightning-4steps-250928"),
    )
    assert version_label(catalog, comfy, kijai) == (
        "cited for version T2V-A14B Seko-V1.1 of lightx2v Wan2.2-Lightning, not this file's T2V-A14B 250928"
    )
    assert (
        version_label(catalog, comfy, catalog.lora("wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise")) is None
    )
    assert version_label(catalog, comfy, catalog.lora("fusionx-t2v-14b")) is None


def test_a_lora_page_names_its_release_and_mirrors(pages: dict[str, str]) -> None:
    kijai = pages["loras/wan22-a14b-t2v-high-lightning-4steps-250928.md"].replace("\\", "")
    release = kijai.split("## Release { #release }", 1)[1].split("\n## ", 1)[0]
    assert "lightx2v **Wan2.2-Lightning**, version T2V-A14B 250928" in release
    assert (
        "Other files of this version: [Wan22_A14B_T2V_LOW_Lightning_4steps_lora_250928_rank64_fp16]"
        in release
    )
    assert "- T2V-A14B Seko-V1.1: [wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise]" in release
    # the other expert of the same release is its sibling, whichever repo publishes it
    assert "low-noise expert of the same release" in kijai
    rank64 = pages[f"loras/{RANK64}.md"].replace("&#95;", "_")
    mirrors = rank64.split("## Also published at { #mirrors }", 1)[1].split("\n## ", 1)[0]
    assert f"{'/'.join(COMFY)}</a>" in mirrors
    assert f"same file name as {'/'.join(KIJAI)}; identity not yet checked" in mirrors


# --- models: a setup for every base model, files ComfyUI loads --------------------------------------------------


def _md(text: str) -> str:
    """A title as the pages write it (the md filter: Markdown punctuation backslashed)."""
    return str(md(text))


def _section(page: str, title: str) -> str:
    return page.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_every_base_model_has_a_cited_setup_or_says_why_not(catalog: Catalog, pages: dict[str, str]) -> None:
    """Each base model's page lists the recipes that run it (the Setups page has each under its architecture),
    with numbers; where no template runs it on its own the page and the Setups page say so."""
    setups = pages["setups.md"]
    for model in (m for m in catalog.models if m.kind == "base"):
        page = _section(pages[f"models/{model.id}.md"], "Setups")
        recipes = [r for r in catalog.recipes if r.loads_model(model.id)]
        assert recipes, model.id
        for recipe in recipes:
            assert f"**{_md(recipe.title)}**" in page, (model.id, recipe.id)
            assert f"{{ #{recipe.id} }}" in setups
        assert re.search(r"\d+ steps, CFG [\d.]+, shift [\d.]+", page), model.id
    t2v_14b = _section(pages["models/wan21-t2v-14b.md"], "Setups")
    missing = (
        "The official templates (comfyui-workflow-templates-json 0.1.123) hold no template that runs Wan 2.1 T2V "
        "14B on its own, without a LoRA; the setups below load it."
    )
    assert missing in t2v_14b
    assert "**Wan2\\.1 Alpha T2V** (a variant on this model's weights)" in t2v_14b
    assert missing in _section(setups, "Wan 2.1 T2V 14B")
    for model_id, numbers in (
        ("wan22-ti2v-5b", "model ← no LoRA, 20 steps, CFG 5, shift 8"),
        ("wan21-t2v-1.3b", "model ← no LoRA, 30 steps, CFG 6, shift 8"),
        ("wan21-i2v-14b-480p", "model ← no LoRA, 20 steps, CFG 6, shift 8"),
    ):
        assert numbers in _section(pages[f"models/{model_id}.md"], "Setups"), model_id
    i2v_480p = _section(pages["models/wan21-i2v-14b-480p.md"], "Setups")
    assert "InfiniteTalk" in i2v_480p


def test_model_pages_lead_with_files_comfyui_loads(catalog: Catalog, pages: dict[str, str]) -> None:
    """The first thing under Download is a curl command of a single file the model lists; the publisher's
    repository comes after, as the source."""
    for model in catalog.models:
        files = [d.link.path for d in model.downloads if isinstance(d.link, HfLink) and d.link.kind == "file"]
        download = _section(pages[f"models/{model.id}.md"], "Download")
        assert files, model.id
        first = download.split("``` sh\n", 1)[1].splitlines()[0]
        assert first.startswith("curl -L -o ComfyUI/models/diffusion_models/"), model.id
        assert any(path.rsplit("/", 1)[-1] in first for path in files if path), model.id
        if model.source is not None:
            assert download.index("Source of the weights:") > download.index(first), model.id


def test_the_dyno_folder_files_are_data_the_weekly_check_verifies(catalog: Catalog) -> None:
    """The folder's two files, as the Hub lists them: the model and lightx2v's native-ComfyUI workflow."""
    folder = "Wan2.2-T2V-A14B-4steps-250928-dyno"
    keys = {link_key(link) for _, link in catalog_links(catalog)}
    dyno = catalog.model(DYNO)
    assert dyno.workflow == HfLink(
        kind="file", repo="lightx2v/Wan2.2-Lightning", path=f"{folder}/{folder}-NativeComfy.json"
    )
    assert link_key(dyno.workflow) in keys
    model = HfLink(
        kind="file", repo="lightx2v/Wan2.2-Lightning", path=f"{folder}/{folder}-high-lightx2v.safetensors"
    )
    assert link_key(model) in keys
    assert link_key(HfLink(kind="file", repo=COMFY[0], path=COMFY[1])) in keys  # a mirror is checked too


def test_made_for_is_fixed_in_the_data(pages: dict[str, str]) -> None:
    """SCAIL-2's LoRA is for the SCAIL-2 model; the dyno checkpoint has none; the changes page names kinds."""
    assert "- [wan2\\.1\\_SCAIL\\_2\\_DPO\\_lora\\_bf16]" in _section(pages["models/scail-2.md"], "LoRAs")
    assert "No LoRA of the catalog says it was made for this model." in pages[f"models/{DYNO}.md"]
    changes = pages["changes.md"]
    assert (
        f"| distilled model | [Wan2\\.2\\-T2V\\-A14B\\-4steps\\-250928\\-dyno\\-high\\-lightx2v](models/{DYNO}.md)"
        in changes
    )
    assert "| model of its own | [SCAIL\\-2](models/scail-2.md)" in changes
    assert not re.search(rf"\| base model \| [^|]*models/{DYNO}\.md", changes)


# --- the importer: baselines, no guessed task ------------------------------------------------------------------


def _mystery(model: str) -> dict[str, object]:
    """A crafted template whose LoRA name and template name state no task, running ``model``."""
    lora = "mystery_style.safetensors"
    template = f.plain(lora=lora)
    template["nodes"][0]["widgets_values"][0] = model
    template["nodes"][5]["widgets_values"] = [
        f"- [{model}]({f.HUB}/Some-Org/Models/resolve/main/diffusion_models/{model})\n"
        f"- [{lora}]({f.HUB}/Some-Org/Models/resolve/main/loras/{lora})\n"
    ]
    return template


def test_the_importer_never_guesses_a_lora_task(root: Path, tmp_path: Path) -> None:
    """No task in the file name, no catalogued model, no task in the template's name: refused, nothing written."""
    folder = f.write_package(tmp_path / "templates", {f.NAME: _mystery("mystery_model_fp16.safetensors")})
    before = sorted(p.name for p in (root / "data" / "loras").iterdir())
    with pytest.raises(DataError) as caught:
        import_templates(root, dt.date(2026, 12, 6), templates_at(folder, "0.0.1"))
    assert [p.message for p in caught.value.problems] == [
        "the LoRA mystery_style.safetensors would be catalogued without a task: its file name states none, the "
        "template runs no catalogued model and its name states none; add the model to data/models/ or the LoRA "
        "with `generator add`"
    ]
    assert sorted(p.name for p in (root / "data" / "loras").iterdir()) == before


def test_a_new_lora_takes_the_task_of_the_catalogued_model_it_runs_on(root: Path, tmp_path: Path) -> None:
    """The same template on SCAIL-2's file (a catalogued variant, by its download): the LoRA takes SCAIL-2's task."""
    folder = f.write_package(
        tmp_path / "templates", {f.NAME: _mystery("wan2.1_14B_SCAIL_2_fp16.safetensors")}
    )
    import_templates(root, dt.date(2026, 12, 6), templates_at(folder, "0.0.1"), allow_removals=True)
    catalog = load_catalog(root / "data", root)
    lora = catalog.lora("mystery-style")
    assert (lora.task, lora.generation) == (catalog.model("scail-2").task, "2.1")
    assert catalog.recipes[0].lora_path.stages[0].model == "scail-2"
