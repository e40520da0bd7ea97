"""One LoRA, several places: whether two catalogued files hold the same bytes, as the Hub check found them.

A LoRA entry names its file and, in ``mirrors``, other places that publish the same file. Two places are the
same file only when the Hub gives both the same LFS sha256: a shared file name proves nothing (lightx2v calls
every expert's LoRA ``high_noise_model.safetensors``). Until both sha256 are known the identity is *not yet
checked*; equal hashes make it *identical* (with the date the check last confirmed both); different hashes
make it *different*, which the check reports and the entry's page shows as a warning.

The same reading applies to two entries that happen to share a file name (the importer and ``add`` write a
second entry when a name recurs in another repo): the page says "same file name as …" until the check has
compared them, and once the bytes are equal the catalog shows that one LoRA is listed twice.

Pure: functions of the catalog and the snapshot; no clock, no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from generator.catalog import models as m
from generator.catalog.snapshot import LinkFact, Snapshot, link_key
from generator.catalog.validate import Catalog

State = Literal["unchecked", "identical", "different"]


@dataclass(frozen=True)
class Identity:
    """Whether two places hold the same bytes, and the words the pages and the report use for it."""

    state: State
    text: str
    sha256: str | None = None
    """The shared sha256 when identical."""
    checked: str | None = None
    """YYYY-MM-DD: the later of the two files' last verified facts, when both are known."""


def label(file: m.LoraFile) -> str:
    """'owner/name/path': a place as the pages name it."""
    return f"{file.repo}/{file.path}"


def _known(fact: LinkFact | None) -> str | None:
    return fact.sha256 if fact is not None else None


def _date(fact: LinkFact) -> str:
    return (fact.verified_at or fact.checked_at)[:10]


def compare(snapshot: Snapshot, place: m.LoraFile, other: m.LoraFile, other_name: str) -> Identity:
    """Whether ``place`` holds the same bytes as ``other`` (named ``other_name`` in the words)."""
    fact, other_fact = snapshot.fact(link_key(place.link)), snapshot.fact(link_key(other.link))
    sha, other_sha = _known(fact), _known(other_fact)
    if sha is None or other_sha is None or fact is None or other_fact is None:
        same = "same file name as" if place.filename == other.filename else "listed as the same file as"
        return Identity("unchecked", f"{same} {other_name}; identity not yet checked")
    checked = max(_date(fact), _date(other_fact))
    if sha == other_sha:
        return Identity("identical", f"identical bytes (sha256 {sha}, checked {checked})", sha, checked)
    return Identity(
        "different",
        f"different bytes from {other_name} (sha256 {sha} here, {other_sha} there, checked {checked})",
        checked=checked,
    )


def mirror_identity(snapshot: Snapshot, lora: m.Lora, mirror: m.LoraFile) -> Identity:
    """A mirror against its entry's file."""
    return compare(snapshot, mirror, lora.file, label(lora.file))


def namesakes(catalog: Catalog) -> dict[str, tuple[m.Lora, ...]]:
    """LoRA id -> the other entries publishing a file of the same name (file or mirror), in catalog order."""
    by_name: dict[str, list[m.Lora]] = {}
    for lora in catalog.loras:
        for name in dict.fromkeys(file.filename for file in lora.files):
            by_name.setdefault(name, []).append(lora)
    found: dict[str, list[m.Lora]] = {}
    for loras in by_name.values():
        for lora in loras:
            for other in loras:
                if other.id != lora.id and other not in found.setdefault(lora.id, []):
                    found[lora.id].append(other)
    return {lora_id: tuple(others) for lora_id, others in found.items() if others}


def entry_identity(snapshot: Snapshot, lora: m.Lora, other: m.Lora) -> Identity:
    """Two entries that share a file name: the same LoRA listed twice, or two files under one name."""
    found = compare(snapshot, lora.file, other.file, f"{other.id} ({label(other.file)})")
    if found.state == "identical":
        text = f"identical bytes to {other.id} (sha256 {found.sha256}, checked {found.checked})"
        return Identity("identical", f"{text}: one LoRA listed twice", found.sha256, found.checked)
    return found


def identity_warnings(catalog: Catalog, snapshot: Snapshot) -> Iterator[tuple[m.Lora, str]]:
    """What the check reports: a mirror whose bytes differ, and two entries holding identical bytes."""
    pairs = namesakes(catalog)
    for lora in catalog.loras:
        for mirror in lora.mirrors:
            found = mirror_identity(snapshot, lora, mirror)
            if found.state == "different":
                advice = "it is no mirror: remove it, or list it as an entry of its own"
                yield lora, f"mirror {label(mirror)}: {found.text}; {advice}"
        for other in pairs.get(lora.id, ()):
            if lora.id > other.id:  # each pair once
                continue
            found = entry_identity(snapshot, lora, other)
            if found.state == "identical":
                advice = f"list {label(other.file)} as a mirror of this entry and remove data/loras/{other.id}.yaml"
                yield lora, f"{found.text}; {advice}"
