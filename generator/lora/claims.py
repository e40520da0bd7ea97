"""Where a header contradicts what a name (or any :class:`Claims`) says: the messages of the header check.

What a file name claims is read by :mod:`generator.lora.filename`; the comparison with a catalog entry is in
:mod:`generator.catalog.contradictions` (this package stays free of the data model).
"""

from __future__ import annotations

from generator.lora.architectures import ARCHITECTURES
from generator.lora.facts import Claims, HeaderFacts, PrecisionSummary, RankSummary
from generator.lora.filename import claimed_architectures
from generator.lora.filename import claims_from_filename as claims_from_filename  # site/ imports it from here
from generator.lora.guess import consistent_architectures


def _claim_label(claims: Claims) -> str:
    parts = [f"Wan {claims.generation}" if claims.generation else None, claims.task, claims.size_class]
    return " ".join(p for p in parts if p)


def contradictions(facts: HeaderFacts, claims: Claims) -> list[str]:
    """Human messages for every claim the header contradicts; empty when consistent."""
    rank_claims = [] if facts.suffix_family == "lycoris" else _rank_contradictions(facts.rank, claims)
    return [
        *rank_claims,
        *_precision_contradictions(facts.precision, claims),
        *_base_contradictions(facts, claims),
    ]


def _rank_contradictions(rank: RankSummary, claims: Claims) -> list[str]:
    who = claims.source
    if rank.kind == "none":
        claimed = claims.rank or claims.average_rank
        wording = f"rank {claimed}" if claimed else "adaptive rank"
        has_claim = claimed is not None or claims.rank_adaptive
        return [f"{who} says {wording} but the file has no LoRA pairs"] if has_claim else []
    found = []
    if claims.rank is not None and rank.kind == "uniform" and claims.rank != rank.nominal:
        found.append(f"{who} says rank {claims.rank} but the header is rank {rank.nominal}")
    if claims.rank is not None and rank.kind == "adaptive" and not claims.rank_adaptive:
        found.append(
            f"{who} says rank {claims.rank} but the header has adaptive ranks {rank.min}–{rank.max} (mean {rank.mean})"
        )
    if claims.rank_adaptive and rank.kind == "uniform":
        found.append(f"{who} says adaptive rank but every module has rank {rank.nominal}")
    found.extend(_average_contradiction(rank, claims))
    return found


AVERAGE_RANK_TOLERANCE = 0.05
"""Relative tolerance between a claimed average rank and the computed mean (minimum 2 ranks)."""


def _average_contradiction(rank: RankSummary, claims: Claims) -> list[str]:
    if claims.average_rank is None or rank.mean is None:
        return []
    tolerance = max(2.0, AVERAGE_RANK_TOLERANCE * claims.average_rank)
    if abs(rank.mean - claims.average_rank) <= tolerance:
        return []
    return [
        f"{claims.source} says average rank {claims.average_rank} but the header's mean rank is {rank.mean:g}"
    ]


def _precision_contradictions(precision: PrecisionSummary, claims: Claims) -> list[str]:
    claimed = claims.precision
    if claimed is None or precision.label == "unknown":
        return []
    actual = precision.label
    if actual == claimed or (claimed == "fp8" and actual.startswith("fp8")):
        return []
    if actual == "mixed":
        shares = ", ".join(f"{d} {s:.0%}" for d, s in precision.shares.items())
        return [f"{claims.source} says {claimed} but the tensors are mixed ({shares})"]
    return [f"{claims.source} says {claimed} but the tensors are {actual}"]


def _base_contradictions(facts: HeaderFacts, claims: Claims) -> list[str]:
    """Generation/task/size claims that the header's shapes rule out.

    Judged on the shapes (what the file was made for), never on the fit verdicts (what ComfyUI loads): a file
    in diffusers naming loads nowhere natively, yet its name may say truly what it was trained on."""
    if claims.generation is None and claims.task is None and claims.size_class is None:
        return []
    claimed = claimed_architectures(claims)
    consistent = consistent_architectures(facts.dims, facts.i2v_keys)
    if not consistent or set(claimed) & set(consistent):
        return []
    who, label = claims.source, _claim_label(claims)
    if facts.i2v_keys and not any(ARCHITECTURES[a].has_clip_branch for a in claimed):
        return [f"{who} says {label} but the file has {facts.i2v_keys} image-branch keys"]
    if claims.task == "I2V" and facts.dims.in_dim is not None and facts.dims.in_dim != 36:
        return [f"{who} says {label} but patch_embedding has in_dim {facts.dims.in_dim}, not 36"]
    labels = ", ".join(ARCHITECTURES[a].label for a in consistent)
    return [f"{who} says {label} but the shapes fit only {labels}"]
