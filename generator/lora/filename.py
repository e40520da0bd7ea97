"""What a file name claims: generation, task, size class, noise expert, rank, precision, family, architecture.

The one reader of names, pure (no catalog, no I/O): `add` and `import-templates` build new entries from it,
the header check compares its claims with the header, the recipes read model files with it and the site
groups the experts of one release by what it leaves of a name. Only whole tokens count, so that
``cinematic_high_quality`` claims no expert and ``flowers_lora_highres`` no rank or noise level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from generator.lora.architectures import ARCHITECTURES
from generator.lora.facts import Claims
from generator.vocabulary import ArchitectureTask as Task
from generator.vocabulary import NoiseLevel, SizeClass

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
_TASK_WORD = r"(ti2v|i2v|t2v|flf2v)"
_TASK = re.compile(rf"{_B}{_TASK_WORD}{_E}", re.IGNORECASE)
_SIZE_WORD = r"(?:1[._]3b|a?14b|5b)"
_SIZE = re.compile(rf"(?<![a-z0-9.])({_SIZE_WORD}){_E}", re.IGNORECASE)
_GLUED = re.compile(rf"{_B}{_TASK_WORD}(?={_SIZE_WORD}{_E})", re.IGNORECASE)
"""A task word glued to a size word (``Wan2.1-I2V14B-480P``): two claims, read apart."""
_NOISE_WORDS: dict[str, NoiseLevel] = {"high": "high", "low": "low"}
_NOISE_SHORT: dict[str, NoiseLevel] = {"HN": "high", "LN": "low"}
_QUALIFIED = frozenset({"quality", "res", "resolution", "detail", "details", "contrast", "light", "key"})
"""Properties a ``high``/``low`` next to them (either side) is the level of: ``high_quality``, ``quality_high``,
``low_light``, ``High_Contrast`` claim no expert (``…_quality_high_noise`` does: ``noise`` names it)."""
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_EXTENSION = re.compile(r"\.(?:safetensors|ckpt|pt|pth|bin)$", re.IGNORECASE)
_PRECISION_ALIASES = {"float16": "fp16", "float32": "fp32"}
_TASKS: dict[str, Task] = {"t2v": "T2V", "i2v": "I2V", "flf2v": "I2V", "ti2v": "TI2V"}
_SIZES: dict[str, SizeClass] = {"1.3b": "1.3B", "1_3b": "1.3B", "14b": "14B", "a14b": "14B", "5b": "5B"}
_SEPARATORS = re.compile(r"[-_. ]{2,}")

FAMILIES = (
    "Lightning",
    "lightx2v",
    "rCM",
    "FastWan",
    "FusionX",
    "Phantom",
    "CausVid",
    "AccVid",
    "Pusa",
    "SCAIL",
)
"""Distillation and style families a path may name, in the order they are tried (the first one found wins:
``FusionX_LoRa/Phantom_Wan_14B_FusionX_LoRA`` is FusionX); a path naming none is ``other``."""
MAX_CLAIM_DIGITS = 6
"""A number in a name with more digits than this is no rank claim (and never an integer too large to handle)."""


def _only(values: Iterable[str]) -> str | None:
    """The single distinct value, or ``None`` when there are none or several."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


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
    apart = _GLUED.sub(r"\1_", text)
    task = _only(_TASKS[t.lower()] for t in _TASK.findall(apart))
    sizes = {_SIZES[s.lower()] for s in _SIZE.findall(apart)}
    generation = generations[0] if len(generations) == 1 else None
    noise = sorted(noise_levels(text))
    return Claims.model_validate(
        {
            "source": source,
            "rank": rank,
            "rank_adaptive": adaptive or average is not None,
            "average_rank": average,
            "precision": precision,
            "generation": generation,
            "task": task,
            "size_class": _only(sizes) if sizes else implied_size(generation, task),
            "noise_level": noise[0] if len(noise) == 1 else None,
        }
    )


def implied_size(generation: str | None, task: str | None) -> SizeClass | None:
    """The size class a name states without a size word (issue 19): TI2V is the 5B model; Wan 2.2 has T2V and I2V
    only as A14B (the Fun models' 5B variants say ``5B``). Wan 2.1 T2V (1.3B and 14B) implies none."""
    if task == "TI2V":
        return "5B"
    if generation == "2.2" and task in ("T2V", "I2V"):
        return "14B"
    return None


def completed(claims: Claims, generation: str | None, task: str | None) -> Claims:
    """``claims`` with the generation and task a second source states (the catalog entry) where the name states
    none, and the size class they imply when no size is stated: what the name and its citing source say together."""
    gen = claims.generation or (generation if generation in ("2.1", "2.2") else None)
    job = claims.task or (task if task in ("T2V", "I2V", "TI2V") else None)
    size = claims.size_class or implied_size(gen, job)
    return claims.model_copy(update={"generation": gen, "task": job, "size_class": size})


def claims_from_filename(filename: str) -> Claims:
    """Claims made by a filename or repo path (``…_rank_64_bf16``, ``Wan2.2-I2V-A14B…/high_noise_model``)."""
    return claims_from_text(filename, source="name")


def _noise_tokens(segment: str, wan22: bool = False) -> Iterator[tuple[int, int, NoiseLevel]]:
    """``(start, end, level)`` of each noise word in one path segment; a ``noise`` token after it is included.
    ``wan22``: the name is a Wan 2.2 name, the only generation with experts (see :func:`noise_levels`)."""
    tokens = list(_TOKEN.finditer(segment))
    words = [token.group() for token in tokens]
    for index, token in enumerate(tokens):
        text = token.group()
        level = _NOISE_SHORT.get(text) or _NOISE_WORDS.get(text.lower().removesuffix("noise"))
        if level is None:
            continue
        previous = words[index - 1] if index else None
        following = words[index + 1] if index + 1 < len(words) else None
        noise = following is not None and following.lower() == "noise"
        if _names_expert(text, previous, following, noise=noise, wan22=wan22):
            yield token.start(), tokens[index + 1].end() if noise else token.end(), level


def _names_expert(
    text: str, previous: str | None, following: str | None, *, noise: bool, wan22: bool
) -> bool:
    """Whether one ``high``/``low`` token (``text``, between ``previous`` and ``following``) names the expert."""
    if noise or text.lower().endswith("noise") or text in _NOISE_SHORT:
        return True
    if {(previous or "").lower(), (following or "").lower()} & _QUALIFIED:
        return False
    return text.isupper() or following is None or (wan22 and text.istitle())


def noise_levels(text: str) -> set[NoiseLevel]:
    """Expert levels a name states as whole tokens.

    Always: ``high_noise``/``low-noise``/``HighNoise`` (``noise`` glued or next), and ``HN``/``LN``. Unless the
    word next to it (either side) is a property it is the level of (:data:`_QUALIFIED`: ``high_quality``,
    ``quality_high``, ``low_light``): ``HIGH``/``LOW`` in capitals, ``high``/``low`` in any case as the last word
    of a path segment (``…/high_noise_model``, ``lora_low.safetensors``), and ``High``/``Low`` in title case
    anywhere in a Wan 2.2 name (``wan2.2_t2v_High_Lightning``; only Wan 2.2 has experts, so in another name it is
    a word). A lone ``H``/``L`` is never a claim (``hand_L`` is a hand), nor a lower-case ``high`` inside a
    segment (``cinematic_high_quality``, ``wan22_high_speed``).
    """
    wan22 = _GEN["2.2"].search(text) is not None
    segments = _EXTENSION.sub("", text).split("/")
    return {level for segment in segments for *_, level in _noise_tokens(segment, wan22)}


def named_expert(name: str | None) -> NoiseLevel | None:
    """The one Wan 2.2 noise expert a file name states; ``None`` when it states none, or both."""
    return claims_from_filename(name or "").noise_level


def family(path: str) -> str:
    """The first of :data:`FAMILIES` the path names anywhere (any case), else ``other``."""
    lowered = path.lower()
    return next((found for found in FAMILIES if found.lower() in lowered), "other")


def claimed_architectures(claims: Claims) -> list[str]:
    """Architecture ids consistent with the generation, task and size a claim names."""
    return [
        a.id
        for a in ARCHITECTURES.values()
        if claims.generation in (None, a.generation)
        and claims.task in (None, a.task)
        and claims.size_class in (None, a.size_class)
    ]


def model_architecture(name: str | None) -> str | None:
    """The architecture a base model file is, when its name states generation, task and size.

    Stricter than a LoRA's claim: a model for first-last-frame (``flf2v``) or without a task word (VACE, Fun,
    S2V, Animate …) is a variant with weights of its own, not the plain architecture.
    """
    text = name or ""
    claims = claims_from_filename(text)
    if None in (claims.generation, claims.task, claims.size_class) or "flf2v" in text.lower():
        return None
    found = claimed_architectures(claims)
    return found[0] if len(found) == 1 else None


def sibling_stem(name: str) -> str:
    """The file name's stem without its expert, rank and precision words, for telling that two files (the
    high- and the low-noise expert of one release) differ only there: separators left behind become one.

    ``Wan22_A14B_T2V_HIGH_Lightning_rank128_fp16.safetensors`` and ``…_LOW_Lightning_rank64_fp16…`` give
    the same stem; ``cinematic_high_quality`` keeps its ``high``.
    """
    stem = _EXTENSION.sub("", name.rsplit("/", 1)[-1])
    spans = sorted(span[:2] for span in _noise_tokens(stem, _GEN["2.2"].search(name) is not None))
    for start, end in reversed(spans):
        stem = stem[:start] + "_" + stem[end:]
    for pattern in (_AVERAGE, _RANK, _PRECISION):
        stem = pattern.sub("_", stem)
    return _SEPARATORS.sub("_", stem).strip("-_. ")
