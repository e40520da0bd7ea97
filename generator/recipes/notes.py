"""What a template's own notes say about its paths: their settings, its caveats, how to switch.

Notes are the template author's words, so they are quoted, never paraphrased: a paragraph is kept
verbatim with the note's title (or its node id) as the citation. Two kinds are read:

- settings: a note that gives steps and cfg per path, as a table (a column or a row per path) or as
  headed lists (``## Default`` / ``## For CausVid LoRA`` with ``- steps: 2-4``); a path is the LoRA one
  when its header names a LoRA (Lightning, lightx2v, CausVid …) and does not say "without";
- guidance: a paragraph that judges the LoRA (loses dynamics, a strength range, keys that do not match,
  quality) or says how to switch between the template's groups (Ctrl + B, "enable one as needed").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from generator.recipes.graph import Json, Workflow

_LORA_WORD = re.compile(r"(?i)\b(lora|lightning|lighting|lightx2v|causvid|4 ?steps?)\b")
_WITHOUT = re.compile(r"(?i)\bwithout\b")
_JUDGEMENT = re.compile(
    r"(?i)(loss of|lose|dynamics|between \d|shake|blurr|didn't match|do(?:es)?n't match|sacrific|quality)"
)
_SWITCHING = re.compile(r"(?i)(ctrl\s*\+\s*b|enable one as needed|bypass mode)")
_SETTING = re.compile(r"(?i)^\s*[-*]?\s*(steps|cfg)\s*:\s*(\S+)\s*$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$|^\d+\s*[-–]\s*\d+$")


@dataclass(frozen=True)
class Quote:
    """A note's words, verbatim, and where they are: the note's title (or 'note N') and node id."""

    text: str
    note: str
    node: int


@dataclass(frozen=True)
class NoteSettings:
    """Steps and cfg that a note gives for one path (as the note writes them), with the note quoted."""

    with_lora: bool
    values: dict[str, str]
    quote: Quote


def _notes(workflow: Workflow) -> list[tuple[Json, str]]:
    """Every note that is on, with its text (the first widget value)."""
    found = []
    for _, node in workflow.nodes():
        values = node.get("widgets_values")
        text = values[0] if isinstance(values, list) and values else None
        if "Note" in node["type"] and node.get("mode", 0) == 0 and isinstance(text, str):
            found.append((node, text))
    return found


def _cite(node: Json, text: str) -> Quote:
    title = node.get("title")
    return Quote(text.strip(), str(title) if title else f"note {node['id']}", int(node["id"]))


def guidance(workflow: Workflow) -> list[Quote]:
    """The notes' paragraphs that judge the LoRA or say how to switch paths, once each."""
    quotes: list[Quote] = []
    for node, text in _notes(workflow):
        for paragraph in re.split(r"\n\s*\n", text):
            lora_judged = _LORA_WORD.search(paragraph) and _JUDGEMENT.search(paragraph)
            if (lora_judged or _SWITCHING.search(paragraph)) and "|" not in paragraph:
                quote = _cite(node, paragraph)
                if quote.text not in {q.text for q in quotes}:
                    quotes.append(quote)
    return quotes


def settings(workflow: Workflow) -> list[NoteSettings]:
    """Per-path steps and cfg given by the notes (tables or headed lists)."""
    found: list[NoteSettings] = []
    for node, text in _notes(workflow):
        for with_lora, values in [*_table(text), *_sections(text)]:
            if values:
                found.append(NoteSettings(with_lora, values, _cite(node, text)))
    return found


def _is_lora(header: str) -> bool:
    return bool(_LORA_WORD.search(header)) and not _WITHOUT.search(header)


def _table(text: str) -> list[tuple[bool, dict[str, str]]]:
    """A markdown table with steps and cfg, one column or one row per path."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.strip().startswith("|") and not re.fullmatch(r"[|\s:-]+", line.strip())
    ]
    if len(rows) < 2:
        return []
    header, body = rows[0], rows[1:]
    names = [cell.lower() for cell in header]
    if "steps" in names and "cfg" in names:  # a row per path
        return [
            (
                _is_lora(row[0]),
                {
                    key: row[names.index(key)]
                    for key in ("steps", "cfg")
                    if _NUMBER.match(row[names.index(key)])
                },
            )
            for row in body
            if len(row) == len(header)
        ]
    by_name = {row[0].lower(): row for row in body if len(row) == len(header)}
    if "steps" not in by_name or "cfg" not in by_name:
        return []
    return [
        (
            _is_lora(header[column]),
            {key: by_name[key][column] for key in ("steps", "cfg") if _NUMBER.match(by_name[key][column])},
        )
        for column in range(1, len(header))
    ]


def _sections(text: str) -> list[tuple[bool, dict[str, str]]]:
    """Headed lists: '## Default' then '- steps:20', '- cfg:6.0'."""
    found: list[tuple[bool, dict[str, str]]] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            found.append((_is_lora(line), {}))
            continue
        match = _SETTING.match(line)
        if match and found and _NUMBER.match(match.group(2)):
            found[-1][1][match.group(1).lower()] = match.group(2)
    return found


def cited(quote: Quote) -> dict[str, Any]:
    """A quote as recipe data: the words, the note's title, its node id."""
    return {"text": quote.text, "note": quote.note, "node": quote.node}


def apply_settings(data: dict[str, Any], given: list[NoteSettings]) -> None:
    """Use the notes' settings for each path: a differing number is replaced by the note's, and the path
    cites the note (`source`) and names what it took from it (`from_note`). A path the nodes do not
    hold (the VACE templates' 20 steps, CFG 6 without CausVid) is built from the note alone."""
    for key, with_lora in (("lora_path", True), ("default_path", False)):
        note = next((found for found in given if found.with_lora == with_lora), None)
        if note is None:
            continue
        if key in data:
            taken = [name for stage in data[key]["stages"] for name in _take(stage, note, only_single=True)]
        elif not with_lora:
            data[key] = {"label": "without the LoRAs, as the template's note gives it", "stages": []}
            for stage in data["lora_path"]["stages"]:
                copy = {**stage, "loras": []}
                for split in ("start_step", "end_step"):
                    copy.pop(split, None)
                taken = _take(copy, note, only_single=False)
                data[key]["stages"].append(copy)
        else:
            continue
        data[key]["source"] = cited(note.quote)
        if taken:
            data[key]["from_note"] = sorted(set(taken))


def _take(stage: dict[str, Any], note: NoteSettings, *, only_single: bool) -> list[str]:
    """Set the stage's steps and cfg to the note's where they differ; the names taken."""
    taken = []
    for name, text in note.values.items():
        single = re.fullmatch(r"\d+(?:\.\d+)?", text)
        value: float | int | None = (int(text) if name == "steps" else float(text)) if single else None
        if value is None and only_single:
            continue
        if value is None:
            stage.pop(name, None)
            stage[f"{name}_text"] = text
            taken.append(name)
        elif stage.get(name) != value:
            stage[name] = value
            taken.append(name)
    return taken
