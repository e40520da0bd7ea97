"""Where a LoRA's header contradicts its catalog entry or its file name: the header check's findings per entry.

The header package compares facts with plain :class:`Claims`; this module turns a catalog entry into claims,
so that ``generator.lora`` never depends on the data model.
"""

from __future__ import annotations

from generator.catalog import models as m
from generator.lora.claims import contradictions
from generator.lora.facts import Claims, HeaderFacts
from generator.lora.filename import claims_from_filename
from generator.vocabulary import HEADER_PRECISION


def catalog_claims(lora: m.Lora) -> Claims:
    """What the catalog entry says about the file, in the header analysis's spelling of precisions."""
    rank = lora.claimed.rank
    precision = lora.claimed.precision
    return Claims(
        source="catalog",
        rank=rank if isinstance(rank, int) else None,
        rank_adaptive=rank == "adaptive",
        average_rank=lora.claimed.average_rank,
        precision=HEADER_PRECISION.get(precision, precision) if precision is not None else None,
        generation=lora.generation,
        task=lora.task if lora.task in ("T2V", "I2V", "TI2V") else None,
    )


def lora_contradictions(facts: HeaderFacts, lora: m.Lora) -> list[str]:
    """Where the header disagrees with the file name or the catalog entry; a claim both make is said once."""
    by_name = contradictions(facts, claims_from_filename(lora.file.path))
    by_catalog = [
        message
        for message in contradictions(facts, catalog_claims(lora))
        if message.replace("catalog says", "name says", 1) not in by_name
    ]
    return [*by_name, *by_catalog]


def file_contradictions(facts: HeaderFacts, lora: m.Lora, size: int | None) -> list[str]:
    """lora_contradictions, plus numbers that cannot be: tensors needing more bytes than the file holds."""
    found = lora_contradictions(facts, lora)
    if size is not None and facts.payload_bytes > size:
        found.append(
            f"the header's tensors need {facts.payload_bytes:,} bytes but the file on the Hub has "
            f"{size:,}: the header or the size is wrong"
        )
    return found
