"""The Setups page reads the templates right (issue 20, site side) and every page answers "how do I run it"
(issue 22), on the project's own data: each expected value is read from data/ (a recipe, a release, the seed's
combination), never from rendered output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.catalog.recipes import Recipe, RecipePath
from generator.catalog.snapshot import SNAPSHOT_FILE, load_snapshot
from generator.catalog.validate import Catalog, load_catalog
from generator.cli import main
from generator.site.render import render_pages
from tests.test_pages import links, plain

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", name="catalog")
def _catalog() -> Catalog:
    return load_catalog(ROOT / "data", ROOT)


@pytest.fixture(scope="module", name="pages")
def _pages(catalog: Catalog) -> dict[str, str]:
    return render_pages(catalog, load_snapshot(ROOT / "data" / SNAPSHOT_FILE))


def card(pages: dict[str, str], recipe_id: str) -> str:
    """A recipe's card on the Setups page: from its heading to the next heading."""
    page = pages["setups.md"]
    start = page.index(f"{{ #{recipe_id} }}")
    end = min(
        (i for i in (page.find("\n### ", start), page.find("\n## ", start)) if i > 0), default=len(page)
    )
    return page[page.rindex("\n### ", 0, start) : end]


def unquoted(markdown: str) -> str:
    """What a reader sees of Markdown with its blockquotes' '>' markers dropped."""
    return plain(re.sub(r"(?m)^> ?", "", markdown))


def paths(recipe: Recipe) -> list[tuple[str, RecipePath]]:
    """The recipe's paths by the name opens_with gives them."""
    found = [("lora_path", recipe.lora_path)]
    return found + ([("default_path", recipe.default_path)] if recipe.default_path else [])


def path_heading(text: str, label: str) -> str:
    """The line that opens a path's table in a card (its label in bold, then what the template does)."""
    line = next(line for line in text.splitlines() if line.startswith("**") and plain(line).startswith(label))
    return plain(line)


# --- issue 20: the Setups page reads the templates right ---------------------------------------------------


def test_each_card_says_which_path_the_template_opens_with_and_no_other(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """The path the template opens with, and only that one, is said to be the one it opens with; no card calls
    a path "the default" in its own words (labels, notes and quotes are the data's)."""
    marked = 0
    for recipe in catalog.recipes:
        text = card(pages, recipe.id)
        for name, path in paths(recipe):
            opens = path_heading(text, path.label).endswith("(the template opens with this path):")
            assert opens == (recipe.opens_with == name), (recipe.id, name)
            marked += opens
        own = plain("\n".join(line for line in text.splitlines() if not line.startswith(">")))  # no quote
        for words in [path.label for _, path in paths(recipe)] + list(recipe.notes):
            own = own.replace(plain(words), "")
        own = own.replace("the model's default shift", "")
        assert "default" not in own.casefold(), recipe.id
    assert marked == sum(1 for recipe in catalog.recipes if recipe.opens_with) == 20


def test_settings_from_a_templates_note_say_so_with_the_quote(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """Alpha T2V's LoRA path: 4 steps and CFG 1 from the note 'KSampler Setting', quoted; VACE's path without
    the LoRA: 20 steps and CFG 6 from its note."""
    for recipe_id, path_name, values in (
        ("wan2.1-alpha-t2v-14b", "lora_path", ("4", "1")),
        ("wan-vace-14b-t2v", "default_path", ("20", "6")),
    ):
        recipe = catalog.recipes[[r.id for r in catalog.recipes].index(recipe_id)]
        path = dict(paths(recipe))[path_name]
        assert path.source is not None
        assert set(path.from_note) == {"steps", "cfg"}
        text = card(pages, recipe_id)
        table = text[text.index(path.label.replace("'", "&\\#39;")) :]
        row = plain(table[: table.index("</table>")])
        steps, cfg = values
        assert f"{steps} from the template's note {cfg} from the template's note" in row, recipe_id
        said = f"The steps and CFG of this path are from the template's note ‘{path.source.note}’"
        assert said in plain(text)
        assert " ".join(path.source.text.split()) in unquoted(text)
        assert f"(node {path.source.node})" in plain(text)


def test_a_stage_without_a_shift_node_says_the_models_default_shift(pages: dict[str, str]) -> None:
    """Dancer's local stage has no shift node: its Shift cell says so instead of 'not given'."""
    shifts = [plain(cell) for cell in re.findall(r'data-label="Shift">(.*?)</td>', card(pages, "wan-dancer"))]
    assert shifts == ["5", "the model's default shift", "5", "the model's default shift"]


def test_a_range_of_steps_a_note_gives_is_shown_as_a_range(tmp_path: Path) -> None:
    """A stage whose steps a note gives as a range (steps_text '2-4', no count) shows '2–4', not 'not given'."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    recipe = tmp_path / "data" / "recipes" / "wan-vace-14b-t2v.yaml"
    text = recipe.read_text(encoding="utf-8")
    recipe.write_text(text.replace("    steps: 4\n", "    steps_text: 2-4\n", 1), encoding="utf-8")
    catalog = load_catalog(tmp_path / "data", tmp_path)
    page = render_pages(catalog, load_snapshot(tmp_path / "data" / SNAPSHOT_FILE))
    cell = re.search(r'data-label="Steps">([^<]*)</td>', card(page, "wan-vace-14b-t2v"))
    assert cell is not None
    assert plain(cell.group(1)) == "2–4"


@pytest.mark.parametrize(
    ("recipe_id", "group", "how"),
    [
        ("wan2-2-14b-flf2v", "Enable lightning lora version", "note 95"),
        ("wan2-2-14b-fun-camera", "LightX2V 4 Steps LoRA", None),
        ("wan2-2-14b-fun-control", "Wan2.2 Fun Control fp8 scaled+ 4 steps LoRA", None),
        ("wan2-2-14b-fun-inpaint", "Wan2.2_fun_Inp fp8_scaled", "note 156"),
        ("wan2-2-14b-s2v", "Basic sampling", "note 179"),
    ],
)
def test_a_bypassed_group_says_how_to_enable_it(
    catalog: Catalog, pages: dict[str, str], recipe_id: str, group: str, how: str | None
) -> None:
    """A path shipped as a bypassed group says so, and what to do: select the group, Ctrl+B, bypass the other;
    a LoRA path adds that switching its LoRA nodes alone changes nothing; the note that says how is named."""
    recipe = next(r for r in catalog.recipes if r.id == recipe_id)
    grouped = [path for _, path in paths(recipe) if path.group]
    assert len(grouped) == 1
    assert grouped[0].group is not None
    assert grouped[0].group.startswith(group)
    text = plain(card(pages, recipe_id))
    opening = f"Shipped as the bypassed group ‘{grouped[0].group}’"
    sentence = opening + text[text.index(opening) + len(opening) :].split(". ")[0]
    assert (
        "select the whole group and enable it with Ctrl+B, then bypass the other path with Ctrl+B" in sentence
    )
    assert ("switching only its LoRA nodes on changes nothing" in sentence) == (
        grouped[0] is recipe.lora_path
    )
    assert (f"as the template's note ‘{how}’ says" in sentence) == (how is not None)


@pytest.mark.parametrize(
    ("recipe_ids", "words"),
    [
        (
            ("wan2-2-14b-flf2v", "wan2-2-14b-fun-inpaint", "wan2-2-14b-fun-camera"),
            "the loss of video dynamics",
        ),
        (("wan-vace-14b-t2v", "wan-vace-14b-ref2v", "wan-vace-outpainting"), "between 0.3 and 0.7"),
        (("wan2-2-14b-s2v",), "many keys didn't match"),
    ],
)
def test_the_templates_caveats_are_quoted_and_cited(
    catalog: Catalog, pages: dict[str, str], recipe_ids: tuple[str, ...], words: str
) -> None:
    """Each quote of a recipe stands in its card as written, with its note's title and node."""
    for recipe_id in recipe_ids:
        recipe = next(r for r in catalog.recipes if r.id == recipe_id)
        quote = next(q for q in recipe.quotes if words in q.text)
        text = unquoted(card(pages, recipe_id))
        cite = f"From the template's note ‘{quote.note}’ (node {quote.node}): "
        assert cite + " ".join(quote.text.split()) in text, recipe_id


def test_the_download_block_links_each_loras_page(catalog: Catalog, pages: dict[str, str]) -> None:
    """Every LoRA file of a card's download block links its catalog page."""
    linked = 0
    for recipe in catalog.recipes:
        text = card(pages, recipe.id)
        block = text[text.index("Every file of this setup") :] if recipe.files else ""
        expected = {f"../loras/{file.lora}/" for file in recipe.files if file.lora}
        assert {link for link in links(block) if link.startswith("../loras/")} == expected, recipe.id
        linked += len(expected)
    assert linked >= 25


def test_each_lora_page_lists_every_template_that_uses_it(catalog: Catalog, pages: dict[str, str]) -> None:
    """A LoRA's page links every recipe whose stages or download block name it (CausVid: the five VACE ones)."""
    users: dict[str, set[str]] = {}
    for recipe in catalog.recipes:
        named = {f.lora for f in recipe.files} | {
            u.lora for _, path in paths(recipe) for s in path.stages for u in s.loras
        }
        for lora_id in named - {None}:
            assert lora_id is not None
            users.setdefault(lora_id, set()).add(recipe.id)
    assert len(users["wan21-causvid-14b-t2v-lora-rank32"]) == 5
    for lora in catalog.loras:
        section = pages[f"loras/{lora.id}.md"].split("## Recipes", 1)[1].split("\n## ", 1)[0]
        listed = {link.split("#")[1] for link in links(section) if link.startswith("../setups.md#")}
        assert listed == users.get(lora.id, set()), lora.id


def test_a_files_lora_must_name_a_catalogued_lora(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate refuses a download block's LoRA id that no data/loras/ entry has, at its line and column."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    recipe = tmp_path / "data" / "recipes" / "wan2-2-14b-t2v.yaml"
    lines = recipe.read_text(encoding="utf-8").splitlines(keepends=True)
    at = max(
        i
        for i, line in enumerate(lines)
        if line == "  lora: wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise\n"
    )
    lines[at] = "  lora: wan2.2-t2v-lightx2v-4steps-lora-v1.1-lo-noise\n"
    recipe.write_text("".join(lines), encoding="utf-8")
    assert main(["--root", str(tmp_path), "validate"]) == 1
    err = "".join(capsys.readouterr())
    assert (
        f"data/recipes/wan2-2-14b-t2v.yaml:{at + 1}:9: unknown LoRA 'wan2.2-t2v-lightx2v-4steps-lora-v1.1-lo-noise'"
        in err
    )
    assert "did you mean 'wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise'?" in err


def test_the_seeds_words_stay_beside_the_templates(catalog: Catalog, pages: dict[str, str]) -> None:
    """Where the seed says "low: ?", the Setups page says "LoRA unknown (?)" as the combinations page does; a
    recommendation badge keeps the comment's qualifier ("very good for 2.1") on the LoRA page."""
    combo = next(c for c in catalog.combinations if c.low is not None and c.low.loras is None)
    setups = plain(pages["setups.md"])
    assert "LoRA not given" not in setups
    section = setups[setups.index(combo.title) :]
    assert "low expert ← LoRA unknown (?)" in section[: section.index("###") if "###" in section else None]
    assert "LoRA unknown (?)" in plain(pages["combinations.md"])
    for lora in catalog.loras:
        if lora.comment and lora.comment.casefold() == "very good for 2.1":
            badge = re.search(
                r'<span class="la-badge la-recommended"[^>]*>(.*?)</span>', pages[f"loras/{lora.id}.md"]
            )
            assert badge is not None, lora.id
            assert plain(badge.group(1)) == "recommended: “very good for 2.1”", lora.id
