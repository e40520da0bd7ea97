"""The Setups page reads the templates right (issue 20, site side) and every page answers "how do I run it"
(issue 22), on the project's own data: each expected value is read from data/ (a recipe, a release, the seed's
combination), never from rendered output.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from generator.catalog.fit import FitRules
from generator.catalog.recipes import Recipe, RecipePath, RecipeStage
from generator.catalog.snapshot import SNAPSHOT_FILE, facts_of, load_snapshot
from generator.catalog.validate import Catalog, load_catalog
from generator.cli import main
from generator.site.render import render_pages
from tests.test_pages import links, plain

ROOT = Path(__file__).resolve().parents[1]


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
                r'<span class="la-badge la-recommended"[^>]*>(.*?)</span> <span class="la-qualifier">(.*?)</span>',
                pages[f"loras/{lora.id}.md"],
            )
            assert badge is not None, lora.id
            assert plain(" ".join(badge.groups())) == "recommended “very good for 2.1”, says the comment", (
                lora.id
            )


# --- issue 22: how to run it ------------------------------------------------------------------------------


def how_section(page: str) -> str:
    """The "How to run it" section of a page: from its heading to the next section."""
    start = page.index("## How to run it")
    return page[start : page.index("<div data-search-exclude markdown>", start)]


def tables(section: str) -> list[list[dict[str, str]]]:
    """Each table of a section as its rows, each row its cells by data-label (raw HTML of the cell)."""
    found = []
    for table in section.split("<table")[1:]:
        rows = re.findall(r"<tr><td.*?</tr>", table)
        found.append([dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row)) for row in rows])
    return found


def stage_of(catalog: Catalog, recipe: Recipe, detail: str, runs_on: str) -> tuple[RecipePath, RecipeStage]:
    """The recipe's path a row's detail names (its label first) and the stage it runs on ('high expert: <the
    model's name or file>')."""
    path = next(p for _, p in paths(recipe) if detail.startswith(p.label))
    where, model = runs_on.split(": ", 1)
    (stage,) = [
        s
        for s in path.stages
        if (f"{s.expert} expert" if s.expert else "model") == where
        and model == (catalog.model(s.model).name if s.model else s.model_file)
    ]
    return path, stage


def detail(row: dict[str, str]) -> str:
    """A row's detail under its setup's name: which path of the template, or whose combination."""
    found = re.search(r'<div class="la-muted">(.*?)</div>', row["Setup"])
    assert found is not None
    return plain(found.group(1))


def setup_target(row: dict[str, str]) -> tuple[str, str]:
    """The recipe id a row links to and its path label (the detail up to its first comma or semicolon)."""
    found = re.search(r'setups/#([^"]+)"', row["Setup"])
    assert found is not None
    return found.group(1), re.split("[,;]", detail(row))[0]


def strength(value: float) -> str:
    """A strength as the data holds it, with its decimal point: 1.0, 0.8, 1.03."""
    shown = repr(value)
    return shown if "." in shown else f"{shown}.0"


def expected_cells(path: RecipePath, stage: RecipeStage) -> dict[str, str]:
    """What the data of a recipe's stage gives, cell by cell, in the words the pages use."""
    split = stage.end_step if stage.end_step is not None and not stage.start_step else stage.start_step
    steps = str(stage.steps) + (f", split at {split}" if split else "")
    noted = " (from the template's note)"
    return {
        "Steps": steps + (noted if "steps" in path.from_note else ""),
        "CFG": f"{stage.cfg:g}" + (noted if "cfg" in path.from_note else ""),
        "Shift": f"{stage.shift:g}" if stage.shift is not None else "the model's default shift",
        "Sampler": f"{stage.sampler} / {stage.scheduler}",
    }


def test_every_lora_page_answers_how_to_run_first_each_value_from_its_source(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """The first section of every LoRA page is "How to run it": a row per recipe stage that loads the file (or
    another version of its release) and per combination expert that uses it, each value the source's own, or
    "no cited value"; a page without a row says no source cites a value."""
    recipes = {recipe.id: recipe for recipe in catalog.recipes}
    combos = {combo.id: combo for combo in catalog.combinations}
    checked = 0
    for lora in catalog.loras:
        page = pages[f"loras/{lora.id}.md"]
        assert re.findall(r"(?m)^## .*$", page)[0] == "## How to run it", lora.id
        section = how_section(page)
        own = tables(section)[0] if "Runs on</th>" in section else []
        loads = [
            (r.id, s.expert)
            for r in catalog.recipes
            for _, p in paths(r)
            for s in p.stages
            if any(u.lora == lora.id for u in s.loras)
        ]
        mine = [row for row in own if "<em>cited for" not in row["Setup"]]
        assert len([row for row in mine if "setups/#" in row["Setup"]]) == len(loads), lora.id
        if not own:
            assert (
                "No source cites a setting for this file: strength, steps, CFG, shift and sampler have no"
                in section
            )
        for row in own:
            target = re.search(r'href="../../(setups|combinations)/#([^"]+)"', row["Setup"])
            assert target is not None
            cells = {name: plain(row[name]) for name in ("Strength", "Steps", "CFG", "Shift", "Sampler")}
            if target.group(1) == "combinations":
                combo = combos[target.group(2)]
                setup = combo.high if row["Runs on"].startswith("high") else combo.low
                assert setup is not None
                use = next(u for u in setup.loras or () if u.lora == lora.id)
                given = strength(use.strength) if use.strength is not None else "no cited value"
                assert cells.pop("Strength") == given
                assert set(cells.values()) == {"no cited value"}, lora.id
                if combo.notes:
                    assert f"its words: “{combo.notes}”" in plain(row["Setup"])
            else:
                recipe = recipes[target.group(2)]
                runs_on = plain(row["Runs on"].replace("<wbr>", ""))
                path, stage = stage_of(catalog, recipe, detail(row), runs_on)
                cited = re.search(r'</em>:</div><div><a href="../../loras/([^/]+)/"', row["Setup"])
                file_id = cited.group(1) if cited else lora.id
                uses = [u for u in stage.loras if u.lora == file_id]
                given = ", ".join(strength(u.strength) for u in uses if u.strength is not None)
                assert cells.pop("Strength") == (given or "no cited value"), lora.id
                assert cells == expected_cells(path, stage), (lora.id, recipe.id)
            checked += 1
    assert checked >= 30


def test_the_kijai_250928_high_page_shows_the_lightning_release_settings_labelled(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """The official T2V template loads V1.1 of the release: its strength, steps and split, CFG and shift are on
    the 250928 HIGH page, labelled as cited for V1.1, not this file's version."""
    lora = catalog.lora("wan22-a14b-t2v-high-lightning-4steps-250928")
    assert lora.release is not None
    ours = catalog.release(lora.release)
    v11 = catalog.lora("wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise")
    assert v11.release is not None
    theirs = catalog.release(v11.release)
    rows = tables(how_section(pages[f"loras/{lora.id}.md"]))[0]
    row = next(row for row in rows if "setups/#wan2-2-14b-t2v" in row["Setup"])
    label = f"cited for version {theirs.version} of {theirs.publisher} {theirs.name}, not this file's {ours.version}"
    assert label in plain(row["Setup"])
    assert f'href="../../loras/{v11.id}/"' in row["Setup"]
    cells = [plain(row[name]) for name in ("Strength", "Steps", "CFG", "Shift")]
    assert cells == ["1.0", "4, split at 2", "1", "5"]
    assert plain(row["Runs on"]) == "high expert: Wan 2.2 T2V A14B, high-noise expert"


def test_the_moe_distill_high_page_says_what_the_seed_says_of_the_low_expert(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """No source cites a setting for the MoE-distill HIGH; the seed's words are quoted, it names nothing for
    the low expert, and the low expert's cited setups (another file on Wan 2.2 I2V A14B low) are shown."""
    lora = catalog.lora("wan22-i2v-a14b-high-lightx2v-moe-distill")
    section = how_section(pages[f"loras/{lora.id}.md"])
    text = plain(section)
    assert "No source cites a setting for this file" in text
    assert f"The original page says of this file: “{lora.comment}”" in text
    assert "only high worthy of attention" in text
    assert "The original page says nothing of the low expert for this file" in text
    low = catalog.model("wan22-i2v-a14b-low")
    expected = sorted(
        (recipe.id, path.label)
        for recipe in catalog.recipes
        for _, path in paths(recipe)
        if any(stage.model == low.id for stage in path.stages)
    )
    (rows,) = tables(section)
    assert expected == sorted(setup_target(row) for row in rows)
    assert {plain(row["Stage"]) for row in rows} == {"low expert"}
    assert "the loss of video dynamics" in text  # the FLF2V template's caveat, cited


def test_every_base_model_page_has_a_setup_for_each_expert(catalog: Catalog, pages: dict[str, str]) -> None:
    """Each base model page opens with "How to run it": rows for each expert of Wan 2.2's two-expert models
    (the high and the low stage of each setup), a row for the one model of the others."""
    for model in catalog.models:
        page = pages[f"models/{model.id}.md"]
        assert re.findall(r"(?m)^## .*$", page)[0] == "## How to run it", model.id
        (rows,) = tables(how_section(page))
        stages = {plain(row["Stage"]) for row in rows}
        if model.expert in ("high", "low"):
            assert stages == {"high expert", "low expert"}, model.id
            assert any(model.name in plain(row["Model"]) for row in rows), model.id
        else:
            assert stages == {"model"}, model.id


def test_the_home_page_leads_with_a_line_per_base_model_linking_its_setups(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """The home page's first section is one line per base model of the Setups page, linking each of its recipe
    cards and combinations; the verified section stays."""
    from generator.site.setups import setups_by_base

    page = pages["index.md"]
    headings = re.findall(r"(?m)^## .*$", page)
    assert headings[:2] == ["## How to run each base model", "## What is verified, and when"]
    section = page[page.index(headings[0]) : page.index(headings[1])]
    lines = [line for line in section.splitlines() if line.startswith("- **")]
    bases = setups_by_base(catalog)
    assert len(lines) == len(bases) + 1  # and the models of their own
    for line, base in zip(lines, bases, strict=False):
        assert plain(line).startswith(f"- [{base.name}](setups.md#{base.anchor}):")
        cards = [c.recipe.id for c in (*base.baselines, *base.recipes, *base.variants)]
        expected = {f"setups.md#{i}" for i in cards} | {f"combinations.md#{c.id}" for c in base.combinations}
        assert links(line) - {f"setups.md#{base.anchor}"} == expected
    assert "setups.md" in links(page)


def test_the_13b_choice_keeps_no_14b_lora_and_says_so(catalog: Catalog, pages: dict[str, str]) -> None:
    """On the project's data nothing is made for Wan 2.1 T2V 1.3B and nothing loads on it (every LoRA is 14B):
    both choices say "(none)" and, chosen, the page says so in one sentence; the row data agree (no row made for
    it, no row fitting it); a choice every LoRA passes is named, not offered."""
    rules = FitRules(catalog)
    snapshot = load_snapshot(ROOT / "data" / SNAPSHOT_FILE)
    small = catalog.model("wan21-t2v-1.3b")
    assert not [lora.id for lora in catalog.loras if rules.is_made_for(lora, small)]
    assert not [
        lora.id for lora in catalog.loras if small.id in rules.loads_on(lora, facts_of(snapshot, lora))
    ]
    page = pages["catalog.md"]
    found = {
        value: (empty, text)
        for value, empty, text in re.findall(
            r'<option value="([^"]+)" data-la-empty="([^"]*)">([^<]*)</option>', page
        )
    }
    sentence = "No LoRA in the catalog is made for Wan 2.1 T2V 1.3B; none loads on it."
    assert found[f"made:{small.id}"] == (sentence, "made for Wan 2.1 T2V 1.3B (none)")
    assert found[f"loads:{small.id}"][1] == "loads on Wan 2.1 T2V 1.3B (none)"
    _, _, models, rows = json.loads(pages["catalog-rows.json"])
    at = models.index(small.id)
    assert [row[0] for row in rows if row[5][at] == "1" or row[3][at] in "fp"] == []
    every = [
        m
        for m in catalog.models
        if m.kind == "base"
        and all(m.id in rules.loads_on(lora, facts_of(snapshot, lora)) for lora in catalog.loras)
    ]
    assert every  # Wan 2.1 I2V 14B 480P: every LoRA of the catalog loads on it
    for model in every:
        assert f"loads:{model.id}" not in found
        assert (
            f"loads on {model.name}"
            in page.split("Not offered, because every LoRA of the catalog passes them:", 1)[1].split("\n")[0]
        )
