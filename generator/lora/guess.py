"""Which base model a LoRA was trained on: shapes first, then metadata and the file name."""

from __future__ import annotations

from collections.abc import Mapping

from generator.lora.architectures import ARCHITECTURES
from generator.lora.facts import BaseGuess, Claims, Confidence, DimSignature, GuessSource
from generator.lora.filename import claimed_architectures, claims_from_filename, claims_from_text
from generator.vocabulary import NoiseLevel, SizeClass

_SIZE_BY_DIM: dict[int, SizeClass] = {1536: "1.3B", 3072: "5B", 5120: "14B"}


def consistent_architectures(dims: DimSignature, i2v_keys: int) -> tuple[str, ...]:
    """Architectures whose shapes the LoRA's are consistent with, in catalog order (empty: no Wan ``dim`` seen).

    ``dim`` gives the size class; among the 14B models, image-branch keys exist only on Wan 2.1 I2V, and a
    ``patch_embedding`` shows the input channels (16: T2V, 36: I2V). A 36-channel embedding without image-branch
    keys is Wan 2.1 I2V 14B or Wan 2.2 I2V A14B alike: a LoRA trained on either need not touch the CLIP branch.
    """
    size = _SIZE_BY_DIM.get(dims.dim or 0)
    found = tuple(a for a in ARCHITECTURES.values() if a.size_class == size)
    narrowed = tuple(a for a in found if (a.has_clip_branch if i2v_keys else dims.in_dim in (None, a.in_dim)))
    return tuple(a.id for a in narrowed or found)


def _shape_candidates(dims: DimSignature, i2v_keys: int) -> tuple[str, ...]:
    """Likely training bases from the shapes alone (§5 step 10): the consistent ones, except that a 14B file
    showing neither image-branch keys nor a ``patch_embedding`` is taken for a T2V-type one (the three models
    whose blocks have no image branch to patch); the notes say what shape cannot tell."""
    found = consistent_architectures(dims, i2v_keys)
    if i2v_keys or dims.in_dim is not None or len(found) < 2:
        return found
    return tuple(a for a in found if not ARCHITECTURES[a].has_clip_branch)


def _narrow(candidates: tuple[str, ...], claims: Claims) -> tuple[str, ...]:
    """Candidates a claim agrees with; the original set when the claim names none of them."""
    claimed = set(claimed_architectures(claims))
    narrowed = tuple(c for c in candidates if c in claimed)
    return narrowed or candidates


_GUESS_METADATA_KEYS = ("ss_sd_model_name", "modelspec.title")
"""Metadata values that name the base checkpoint a LoRA was trained on."""
_NAME_METADATA_KEYS = ("ss_output_name", "modelspec.title")
"""Metadata values that name the LoRA itself (musubi-tuner ``--output_name`` and the ModelSpec title)."""
HIGH_NOISE_FROM = 875
"""Lowest timestep (of 1000) of a high-noise expert: the Wan 2.2 T2V boundary (I2V: 900), musubi-tuner
``docs/wan.md``."""
LOW_NOISE_UNTIL = 900
"""Highest timestep of a low-noise expert: the Wan 2.2 I2V boundary (T2V: 875)."""


def guess_base(dims: DimSignature, i2v_keys: int, metadata: Mapping[str, str], filename: str) -> BaseGuess:
    """Shape first, then metadata (``ss_sd_model_name``, ``modelspec.title``), then filename tokens."""
    shape = _shape_candidates(dims, i2v_keys)
    hints = _hints(metadata, filename)
    noise = noise_level(metadata, filename)
    if len(shape) > 1:
        for source, claims in hints:
            narrowed = _narrow(shape, claims)
            if len(narrowed) == 1:
                return _guess(narrowed, shape, source, noise)
    return _guess(shape, shape, "shape", noise)


def noise_level(metadata: Mapping[str, str], filename: str) -> NoiseLevel | None:
    """The Wan 2.2 expert a LoRA is for, when a name or the metadata states it; ``None`` otherwise.

    Trusted in order: the file name, the LoRA's own name in the metadata, ModelSpec's ``modelspec.timestep_range``
    (musubi-tuner writes ``--min_timestep,--max_timestep``), then ``ss_sd_model_name`` only when it names the
    high-noise model: musubi-tuner stores ``--dit`` there, and a LoRA trained on both experts passes the low-noise
    model as ``--dit`` (``--dit_high_noise`` is not recorded), so a low-noise name does not tell (musubi-tuner
    ``docs/wan.md``; ``training/trainer_base.py``).
    """
    for text in (filename, *(metadata.get(k, "") for k in _NAME_METADATA_KEYS)):
        level = claims_from_text(text).noise_level
        if level is not None:
            return level
    timesteps = _timestep_range(metadata.get("modelspec.timestep_range", ""))
    if timesteps is not None:
        if timesteps[0] >= HIGH_NOISE_FROM:
            return "high"
        if timesteps[1] <= LOW_NOISE_UNTIL:
            return "low"
    dit = claims_from_text(metadata.get("ss_sd_model_name", "")).noise_level
    return "high" if dit == "high" else None


def _timestep_range(value: str) -> tuple[int, int] | None:
    """``(min, max)`` from ModelSpec's ``"875,1000"``, else ``None``."""
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isdecimal() and len(p.strip()) <= 4 for p in parts):
        return None
    low, high = (int(p) for p in parts)
    return (low, high) if low <= high else None


def _hints(metadata: Mapping[str, str], filename: str) -> tuple[tuple[GuessSource, Claims], ...]:
    """Claims from metadata and from the filename, in the order they are trusted."""
    text = " ".join(metadata[k] for k in _GUESS_METADATA_KEYS if k in metadata)
    return ("metadata", claims_from_text(text, "metadata")), ("filename", claims_from_filename(filename))


def _guess(
    candidates: tuple[str, ...], shape: tuple[str, ...], source: GuessSource, noise: NoiseLevel | None
) -> BaseGuess:
    """A :class:`BaseGuess`: high confidence when shape alone decides, medium from hints, low if ambiguous."""
    confidence = _confidence(len(candidates), source)
    labels = " or ".join(ARCHITECTURES[c].label for c in candidates)
    reasons = {"none": "no Wan dimension signature in the header", "low": f"ambiguous by shape: {labels}"}
    return BaseGuess(
        architecture=candidates[0] if len(candidates) == 1 else None,
        candidates=candidates,
        shape_candidates=shape,
        confidence=confidence,
        source="none" if not candidates else source,
        noise_level=noise,
        reason=reasons.get(confidence, f"{labels} (from {source})"),
    )


def _confidence(count: int, source: GuessSource) -> Confidence:
    if count == 0:
        return "none"
    if count > 1:
        return "low"
    return "high" if source == "shape" else "medium"
