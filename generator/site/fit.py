"""Does a LoRA fit a base model? The header's verdict when the file was inspected, else what its name claims.

Pure functions of the catalog entry, its file name and the header facts: no snapshot access, no clock. A
*verified* answer comes from the file's safetensors header (tensor shapes); a *claimed* one from the size
class the file name states (1.3B, 5B, 14B), which alone decides whether the shapes can match: a 14B LoRA
never fits a 1.3B model. Everything finer (task, generation, noise expert) is the intended use, said apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.catalog import models as m
from generator.lora.architectures import ARCHITECTURES
from generator.lora.claims import claims_from_filename
from generator.lora.facts import Claims, HeaderFacts

Answer = Literal["fits", "partial", "no", "unknown"]
Basis = Literal["verified", "claimed"]
FITTING: tuple[Answer, ...] = ("fits", "partial")


@dataclass(frozen=True)
class Fit:
    """One LoRA against one base model: the answer, whether it is verified or claimed, and why."""

    model: str
    answer: Answer
    basis: Basis
    reason: str

    @property
    def fitting(self) -> bool:
        """True when the answer is fits or partial."""
        return self.answer in FITTING

    @property
    def token(self) -> str:
        """`model-id:answer:basis`, the form of the catalog rows' data-fit attribute."""
        return f"{self.model}:{self.answer}:{self.basis}"


def claimed_fit(lora: m.Lora, model: m.BaseModelEntry, claims: Claims | None = None) -> Fit:
    """The fit the file name claims: its size class against the model's ('no — 14B LoRA on a 1.3B model').

    ``claims`` are the file name's, when the caller has read them already (reading a name is not free).
    """
    size = (claims or claims_from_filename(lora.file.path)).size_class
    model_size = ARCHITECTURES[model.architecture].size_class
    if size is None:
        return Fit(model.id, "unknown", "claimed", "the file name states no model size (1.3B, 5B or 14B)")
    if size != model_size:
        return Fit(model.id, "no", "claimed", f"{size} LoRA on a {model_size} model")
    return Fit(model.id, "fits", "claimed", f"{size} LoRA on a {model_size} model: the sizes match")


def fit(
    lora: m.Lora, model: m.BaseModelEntry, facts: HeaderFacts | None, claims: Claims | None = None
) -> Fit:
    """The header's verdict for the model's architecture when the file was inspected, else the claimed fit."""
    if facts is None:
        return claimed_fit(lora, model, claims)
    verdict = facts.fits.get(model.architecture)
    if verdict is None:
        return Fit(model.id, "unknown", "verified", "the header analysis did not judge this architecture")
    return Fit(model.id, verdict.verdict, "verified", verdict.reason)
