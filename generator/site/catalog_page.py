"""The catalog page at any size: the first FIRST_ROWS rows as HTML in its table, every row in compact JSON
that docs/javascripts/catalog.js filters, sorts and shows as the reader scrolls, and a list of the other LoRAs
for a reader without JavaScript (issue 25 point 5). What the filters and sorting read (catalog-rows.json) and
the rows' HTML (catalog-rows-html.json) are two files: the filters are ready once the first is read, a fifth of
the bytes, while the HTML, needed only for rows past the first ones, is still on its way.

At 5,000 LoRAs the whole table as HTML took the browser 3 s to parse before the filters were ready, and every
filter restyled thousands of rows; even as the text of one element, 9 MB of JSON took 0.4 s to parse. The
JSON is in files of their own, which the page asks for early (preload links); the page then holds the rows it
shows, a few hundred at most. The rows' JSON is ``[format, filters, models, rows]``, each row ``[id, [filter
values], inspected, fit, sort keys, made for]``, and the HTML's ``[format, [html of each row, in that order]]``;
the fit is one letter per base model of `models` (f fits, p partial, n no, u unknown), made for one digit per
model (1: made for it). Between context and render in the site stage: pure functions of the views and of each
row's HTML, which render.py renders once per LoRA from templates/_catalog_row.j2 (the same HTML whether the row
comes from the page or from the JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from generator.catalog import models as m
from generator.site.views import LoraView

ROWS_FORMAT = 1
"""The format of the rows' JSON (its first item): catalog.js reads this one only (LA_FORMAT), not a stale copy."""
FIRST_ROWS = 50
"""Rows written into the table as HTML: what a reader without JavaScript sees in it, the rest being listed."""
FILTERS = ("generation", "task", "expert", "family")
"""The row values the catalog's selects filter by (besides the fit), in the JSON's order."""
SortKey = str | float | None


def sort_keys(view: LoraView) -> tuple[SortKey, ...]:
    """One key per column of the table, in its order: what a click on the column's header sorts by. None for
    the Get column (not sortable) and for a rank or size nothing tells (sorted last, either way)."""
    lora, fact = view.lora, view.fact
    status = "not checked" if fact is None else f"{fact.status} {(fact.verified_at or fact.checked_at)[:10]}"
    return (
        lora.file.stem,
        f"{lora.generation} {lora.task} {lora.expert or ''}".strip(),
        lora.family,
        view.rank_sort,
        view.precision.value,
        view.size,
        status,
        None,
        f"{lora.recommendation} {lora.comment or ''}".strip(),
    )


FIT_LETTERS = {"fits": "f", "partial": "p", "no": "n", "unknown": "u"}
"""A fit's answer as the JSON writes it. A snapshot validates its answers, but pages are rendered from whatever
snapshot they are given: any other answer is written as unknown."""


@dataclass(frozen=True)
class CatalogRows:
    """What the catalog template places, the first rows' HTML and the LoRAs listed below for readers without
    JavaScript, and the text of the rows' JSON file."""

    first: tuple[Markup, ...]
    rest: tuple[m.Lora, ...]
    json: str
    html_json: str
    """The rows' HTML, in the order of `json`'s rows."""
    selects: dict[str, tuple[str, ...]]
    """The values each filter of FILTERS offers, sorted."""
    choices: FitChoices
    """The model filter's choices (issue 22 point 3)."""


def catalog_rows(
    views: Sequence[LoraView], keys: Sequence[tuple[SortKey, ...]], rows: Sequence[str]
) -> CatalogRows:
    """The catalog's rows, from each LoRA's view, sort keys and rendered row (all in catalog order)."""
    models = [fit.model for fit in views[0].row_fits] if views else []
    data = [
        ROWS_FORMAT,
        FILTERS,
        models,
        [
            [
                view.lora.id,
                [_filter_value(view.lora, name) for name in FILTERS],
                "no" if view.facts is None else "yes",
                _fit_letters(view, models),
                key,
                _made_for(view, models),
            ]
            for view, key in zip(views, keys, strict=True)
        ],
    ]
    html = [ROWS_FORMAT, [row.strip() for row in rows]]
    return CatalogRows(
        first=tuple(Markup(html.strip()) for html in rows[:FIRST_ROWS]),  # noqa: S704 - rendered, escaped rows
        rest=tuple(view.lora for view in views[FIRST_ROWS:]),
        json=_compact(data),
        html_json=_compact(html),
        selects={
            name: tuple(sorted({_filter_value(view.lora, name) for view in views})) for name in FILTERS
        },
        choices=fit_choices(views),
    )


def _compact(data: object) -> str:
    """JSON without spaces, characters as they are (the files are UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _fit_letters(view: LoraView, models: list[str]) -> str:
    """The LoRA's fit on each base model of `models`, one letter each (the same models for every row)."""
    if [fit.model for fit in view.row_fits] != models:
        raise ValueError(f"{view.lora.id}: its fits are not on the catalog's base models, in their order")
    return "".join(FIT_LETTERS.get(fit.answer, "u") for fit in view.row_fits)  # an answer of no kind: unknown


def _made_for(view: LoraView, models: list[str]) -> str:
    """'1' for each base model of `models` the LoRA was made for, '0' for the others (the row's last item)."""
    return "".join("1" if model in view.made_for else "0" for model in models)


# --- the model filter (issue 22 point 3) ---------------------------------------------------------------------


@dataclass(frozen=True)
class FitChoice:
    """One choice of the catalog's model filter: the LoRAs made for one base model, or those that load on it
    (generator.catalog.fit.FitRules: made_for, loads_on), with how many it keeps."""

    value: str
    """'made:<model id>' or 'loads:<model id>': what the filter and the page address hold."""
    label: str
    """'made for Wan 2.1 T2V 14B'."""
    count: int
    empty: str
    """What the page says when the choice keeps no LoRA: 'No LoRA in the catalog is made for …; none loads on it.'"""

    @property
    def text(self) -> str:
        """The option's text: 'made for Wan 2.1 T2V 14B (8)'."""
        return f"{self.label} ({self.count or 'none'})"


@dataclass(frozen=True)
class FitChoices:
    """The model filter's choices, and those it does not offer because they would keep every LoRA."""

    made: tuple[FitChoice, ...]
    loads: tuple[FitChoice, ...]
    no_filter: tuple[str, ...]
    """'loads on Wan 2.1 I2V 14B': a choice every LoRA of the catalog passes filters nothing."""


def fit_choices(views: Sequence[LoraView]) -> FitChoices:
    """ "Made for" and "loads on" each base model a reader can filter by, with how many LoRAs each keeps. A LoRA
    loads on a model when ComfyUI applies it fully or in part (verified, or claimed by the name); one whose fit
    nothing tells does not. A choice that keeps every LoRA filters nothing: it is named, not offered."""
    bases = [cell.model for cell in views[0].compat if cell.model.kind == "base"] if views else []
    fitting = [{fit.model for fit in view.row_fits if fit.fitting} for view in views]
    made: list[FitChoice] = []
    loads: list[FitChoice] = []
    for model in bases:
        counts = {
            "made": sum(model.id in view.made_for for view in views),
            "loads": sum(model.id in fits for fits in fitting),
        }
        made.append(_fit_choice(model, "made", counts, len(views)))
        loads.append(_fit_choice(model, "loads", counts, len(views)))
    every = [choice for choice in (*made, *loads) if choice.count == len(views)]
    return FitChoices(
        made=tuple(choice for choice in made if choice not in every),
        loads=tuple(choice for choice in loads if choice not in every),
        no_filter=tuple(choice.label for choice in every),
    )


def _fit_choice(model: m.BaseModelEntry, kind: str, counts: dict[str, int], total: int) -> FitChoice:
    """A choice of the model filter, and what the page says when it keeps no LoRA (naming the other choice)."""
    made, loads = f"made for {model.name}", f"loads on {model.name}"
    if kind == "made":
        n = counts["loads"]
        offered = "" if n == total else f" (“{loads}”)"  # a choice that keeps every LoRA is not offered
        other = "none loads on it" if not n else f"{n} load{'s' if n == 1 else ''} on it{offered}"
        empty = f"No LoRA in the catalog is made for {model.name}; {other}."
    else:
        n = counts["made"]
        other = (
            "none is made for it"
            if not n
            else "the one made for it does not"
            if n == 1
            else f"the {n} made for it do not"
        )
        empty = f"No LoRA in the catalog loads on {model.name}; {other}."
    return FitChoice(f"{kind}:{model.id}", made if kind == "made" else loads, counts[kind], empty)


def _filter_value(lora: m.Lora, name: str) -> str:
    """The value a filter compares, as the row's data attribute holds it ('none' for a missing expert)."""
    return str(getattr(lora, name) or "none")
