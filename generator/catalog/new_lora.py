"""The fields of a new LoRA entry that its file alone tells: what `add` and `import-templates` both write.

One builder, so that the two ways into the catalog read a file name the same way (they once drifted: one
wrote ``expert: high`` for ``…cinematic_high_quality_lora…``). The callers add what they know besides the
name (a default generation, the source, the date) and put the fields in the data files' order.
"""

from __future__ import annotations

import re

from generator.lora.facts import Claims
from generator.lora.filename import claims_from_filename, family
from generator.vocabulary import CATALOG_PRECISION

Data = dict[str, object]
FIELD_ORDER = (
    "id",
    "file",
    "mirrors",
    "generation",
    "task",
    "expert",
    "family",
    "release",
    "claimed",
    "recommendation",
    "source",
    "added",
)
"""The order of a written LoRA entry's fields (the order of the hand-written data files)."""
MAX_ID = 100
"""The length limit of an id (``Slug`` in :mod:`generator.catalog.fields`)."""


def slug(text: str) -> str:
    """An id from a name: lower case, one '-' or '.' between words, at most :data:`MAX_ID` characters.

    Cut first, then strip, so that no id ends in a separator; empty when the name has no ASCII letter or digit.
    """
    words = re.sub(r"[^a-z0-9.]+", "-", text.lower())
    single = re.sub(r"[-.]{2,}", "-", words)  # the id pattern allows one separator between words
    return single.strip("-.")[:MAX_ID].rstrip("-.")


def file_slug(path: str) -> str:
    """The id a LoRA file's name gives: its :func:`slug` without folders and ``.safetensors``."""
    return slug(path.rsplit("/", 1)[-1].removesuffix(".safetensors"))


def lora_fields(entry_id: str, repo: str, path: str) -> Data:
    """Id, file, the generation, task, expert and rank/precision the name claims, its family; listed.

    A field the name does not claim is left out (the caller chooses a default or asks the curator).
    """
    claims = claims_from_filename(path)
    data: Data = {"id": entry_id, "file": {"repo": repo, "path": path}}
    if claims.generation:
        data["generation"] = claims.generation
    if claims.task:
        data["task"] = claims.task
    if claims.noise_level:
        data["expert"] = claims.noise_level
    data["family"] = family(path)
    claimed = claimed_fields(claims)
    if claimed:
        data["claimed"] = claimed
    data["recommendation"] = "listed"
    return data


def claimed_fields(claims: Claims) -> Data:
    """The entry's `claimed`: rank (or ``adaptive``), average rank and precision in the catalog's spelling."""
    found: Data = {
        "rank": "adaptive" if claims.rank_adaptive else claims.rank,
        "average_rank": claims.average_rank or None,
        "precision": CATALOG_PRECISION.get(claims.precision or ""),
    }
    return {key: value for key, value in found.items() if value is not None}


def in_field_order(data: Data) -> Data:
    """The entry with its fields in :data:`FIELD_ORDER`; a field outside it is a caller's mistake, not dropped."""
    unknown = sorted(set(data) - set(FIELD_ORDER))
    if unknown:
        raise ValueError(f"not a field a new LoRA entry is written with: {', '.join(unknown)}")
    return {key: data[key] for key in FIELD_ORDER if key in data}
