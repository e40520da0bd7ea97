"""What a file name or a catalog entry claims, and where the header contradicts it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.catalog import models as m
from generator.lora.architectures import ARCHITECTURES
from generator.lora.facts import Claims, HeaderFacts, PrecisionSummary, RankSummary
from generator.vocabulary import HEADER_PRECISION, NoiseLevel, SizeClass
from generator.vocabulary import ArchitectureTask as Task

_B = r"(?<![a-z0-9])"
_E = r"(?![a-z0-9])"
_AVERAGE = re.compile(r"(?:average_rank|to_dynamic|dynamic)[_-]?(\d+)", re.IGNORECASE)
_RESIZED = re.compile(r"resized_from_\d+_to", re.IGNORECASE)
_ADAPTIVE = re.compile(r"adaptive_rank|rank_adaptive|dynamic", re.IGNORECASE)
_RANK = re.compile(rf"rank[_-]?(\d+)(?!\d)|{_B}r(\d+){_E}", re.IGNORECASE)
_PRECISION = re.compile(rf"{_B}(fp8_e4m3fn|fp8_e5m2|fp8|bf16|fp16|fp32|float16|float32){_E}", re.IGNORECASE)
_GEN = {
    "2.2": re.compile(rf"wan[-_. ]?2[-_.]?2(?!\d)|{_B}a14b{_E}", re.IGNORECASE),
    "2.1": re.compile(r"wan[-_. ]?2[-_.]?1(?!\d)", re.IGNORECASE),
}
_TASK = re.compile(rf"{_B}(ti2v|i2v|t2v|flf2v){_E}", re.IGNORECASE)
_SIZE = re.compile(rf"(?<![a-z0-9.])(1[._]3b|a?14b|5b){_E}", re.IGNORECASE)
_NOISE_WORDS: dict[str, NoiseLevel] = {"high": "high", "low": "low"}
_NOISE_CAPS: dict[str, NoiseLevel] = {
    "HIGH": "high",
    "HN": "high",
    "H": "high",
    "LOW": "low",
    "LN": "low",
    "L": "low",
}
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_EXTENSION = re.compile(r"\.(?:safetensors|ckpt|pt|pth|bin)$", re.IGNORECASE)
_PRECISION_ALIASES = {"float16": "fp16", "float32": "fp32"}
_TASKS: dict[str, Task] = {"t2v": "T2V", "i2v": "I2V", "flf2v": "I2V", "ti2v": "TI2V"}
_SIZES: dict[str, SizeClass] = {"1.3b": "1.3B", "1_3b": "1.3B", "14b": "14B", "a14b": "14B", "5b": "5B"}


def _only(values: Iterable[str]) -> str | None:
    """The single distinct value, or ``None`` when there are none or several."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


MAX_CLAIM_DIGITS = 6
"""A number in a name with more digits than this is no rank claim (and never an integer too large to handle)."""


def _claimed_number(digits: str) -> int | None:
    """The number a run of digits in a name states, or ``None`` when it is absurdly long."""
    return int(digits) if len(digits) <= MAX_CLAIM_DIGITS else None


def _rank_tokens(text: str) -> tuple[int | None, int | None, bool]:
    """``(rank, average rank, adaptive)`` from rank tokens (§5 step 6 filename hints)."""
    average = _AVERAGE.search(text)
    rest = _RESIZED.sub(" ", _AVERAGE.sub(" ", text))
    ranks = {number for a, b in _RANK.findall(rest) if (number := _claimed_number(a or b)) is not None}
    rank = ranks.pop() if len(ranks) == 1 else None
    return rank, _claimed_number(average.group(1)) if average else None, bool(_ADAPTIVE.search(text))


def claims_from_text(text: str, source: str = "name") -> Claims:
    """Claims made by free text (a filename, a repo path, a model title)."""
    rank, average, adaptive = _rank_tokens(text)
    precision = _only(_PRECISION_ALIASES.get(p.lower(), p.lower()) for p in _PRECISION.findall(text))
    generations = [g for g, pattern in _GEN.items() if pattern.search(text)]
    task = _only(_TASKS[t.lower()] for t in _TASK.findall(text))
    size = _only(_SIZES[s.lower()] for s in _SIZE.findall(text))
    noise = sorted(noise_levels(text))
    return Claims.model_validate(
        {
            "source": source,
            "rank": rank,
            "rank_adaptive": adaptive or average is not None,
            "average_rank": average,
            "precision": precision,
            "generation": generations[0] if len(generations) == 1 else None,
            "task": task,
            "size_class": size,
            "noise_level": noise[0] if len(noise) == 1 else None,
        }
    )


def noise_levels(text: str) -> set[NoiseLevel]:
    """Expert levels a name states as whole tokens: ``high_noise``/``low-noise``/``HighNoise``, ``HIGH``/``LOW``
    (also ``HN``/``LN``, and ``H``/``L`` after a separator) in capitals, or ``high``/``low`` as the last word of a
    path segment (``…/high_noise_model``, ``lora_low.safetensors``); ``high_quality`` or ``low_light`` say nothing."""
    found: set[NoiseLevel] = set()
    for segment in _EXTENSION.sub("", text).split("/"):
        tokens = _TOKEN.findall(segment)
        for index, token in enumerate(tokens):
            word = _NOISE_WORDS.get(token.lower().removesuffix("noise"))
            following = tokens[index + 1].lower() if index + 1 < len(tokens) else None
            if token in _NOISE_CAPS:
                found.add(_NOISE_CAPS[token])
            elif word is not None and (token.lower().endswith("noise") or following in (None, "noise")):
                found.add(word)
    return found


def claims_from_filename(filename: str) -> Claims:
    """Claims made by a filename or repo path (``…_rank_64_bf16``, ``Wan2.2-I2V-A14B…/high_noise_model``)."""
    return claims_from_text(filename, source="name")


def claimed_architectures(claims: Claims) -> list[str]:
    """Architecture ids consistent with the generation, task and size a claim names."""
    return [
        a.id
        for a in ARCHITECTURES.values()
        if claims.generation in (None, a.generation)
        and claims.task in (None, a.task)
        and claims.size_class in (None, a.size_class)
    ]


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
    """Generation/task/size claims that no fully fitting architecture supports."""
    if claims.generation is None and claims.task is None and claims.size_class is None:
        return []
    claimed = claimed_architectures(claims)
    if any(facts.fits[a].verdict in ("fits", "unknown") for a in claimed if a in facts.fits):
        return []
    who, label = claims.source, _claim_label(claims)
    if facts.i2v_keys and not any(ARCHITECTURES[a].has_clip_branch for a in claimed):
        return [f"{who} says {label} but the file has {facts.i2v_keys} image-branch keys"]
    if claims.task == "I2V" and facts.dims.in_dim is not None and facts.dims.in_dim != 36:
        return [f"{who} says {label} but patch_embedding has in_dim {facts.dims.in_dim}, not 36"]
    fitting = [ARCHITECTURES[a].label for a, v in facts.fits.items() if v.verdict == "fits"]
    where = "fit only " + ", ".join(fitting) if fitting else "fit no Wan architecture"
    return [f"{who} says {label} but the shapes {where}"]


def catalog_claims(lora: m.Lora) -> Claims:
    """What the catalog entry says about the file."""
    rank = lora.claimed.rank
    return Claims(
        source="catalog",
        rank=rank if isinstance(rank, int) else None,
        rank_adaptive=rank == "adaptive",
        average_rank=lora.claimed.average_rank,
        precision=HEADER_PRECISION.get(lora.claimed.precision or "", lora.claimed.precision),
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
