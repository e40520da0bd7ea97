"""Does a LoRA fit a base model, and which base models was it made for? One definition for every page and filter.

Issue 19 owns both answers; pages, filters and catalog.json read them here and nowhere else.

* **Verified fit** (the header was read): the stored verdict, what native ComfyUI's ``LoraLoaderModelOnly`` does
  with the file on the model's architecture (:mod:`generator.lora.comfyui`), with the counts behind it.
* **Claimed fit** (before a header is read): the same rules as far as a name can tell. The LoRA's architecture is
  what its file name claims, completed by the catalog entry's generation and task where the name is silent
  (:func:`generator.lora.filename.completed`: a Wan 2.2 T2V/I2V name means A14B unless it says 5B, ``ti2v`` or
  ``5B`` the 5B model). A LoRA of another size class fails at merge (*no*); a Wan 2.1 I2V 14B LoRA on a model
  built without the CLIP branch (Wan 2.1 T2V 14B, either Wan 2.2 A14B expert) loses its image branch
  (*partial*); otherwise it *fits*. Where the claims leave several architectures whose answers differ (a Wan
  2.1 T2V name without a size), the answer is *unknown* and the reason says what the name does not say. Where
  generation, task and size together name no architecture (``wan2.2_i2v_5b``: Wan 2.2 has I2V only as A14B),
  the size class alone decides (issue 19: ``5B`` names mean the 5B size) and the reason says so.
* **Made for**: the base models the file name or its citing source names: generation, task, size class and
  expert together (never generation and task alone: Wan 2.1 T2V is 1.3B or 14B), or the model a citing recipe
  (``data/recipes/``) loads it on. A distilled checkpoint (``kind: distilled``) has no LoRAs made for it; a variant
  (``kind: variant``, a model of its own such as SCAIL-2) has those its recipes load on it. A shape that fits is
  not advice: a high-noise LoRA fits the low-noise expert, but was not made for it.
* A variant whose tensor layout the catalog does not know (no ``architecture``) gets no fit but *unknown*.

Pure: functions of the catalog and the stored header facts, in catalog order; no snapshot access, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.catalog import models as m
from generator.catalog.validate import Catalog
from generator.lora.architectures import ARCHITECTURES, Architecture
from generator.lora.facts import Claims, HeaderFacts, PatchCounts, VerdictKind
from generator.lora.filename import claimed_architectures, claims_from_filename, completed

Basis = Literal["verified", "claimed"]
FITTING: tuple[VerdictKind, ...] = ("fits", "partial")
SIZE_ORDER = ("1.3B", "5B", "14B")


@dataclass(frozen=True)
class Fit:
    """One LoRA against one base model: the answer, whether it is verified or claimed, why, and (verified only)
    the counts behind it and the ComfyUI release that judged it."""

    model: str
    answer: VerdictKind
    basis: Basis
    reason: str
    counts: PatchCounts | None = None
    comfyui: str | None = None

    @property
    def fitting(self) -> bool:
        """True when the answer is fits or partial: ComfyUI applies (some of) the LoRA to the model."""
        return self.answer in FITTING

    @property
    def counts_text(self) -> str:
        """``1053 of 1261 patches applied, 290 keys not loaded``: the counts behind a verified answer, short
        enough for a table cell; empty for a claimed answer or facts stored before the counts were."""
        counts = self.counts
        if counts is None:
            return ""
        parts = [f"{counts.applied} of {counts.patches} patches applied"]
        left = sum(counts.keys_not_loaded.values())
        if left:
            parts.append(f"{left} key{'s' if left != 1 else ''} not loaded")
        failed = counts.outcomes.get("merge_error", 0) + counts.outcomes.get("load_error", 0)
        if failed:
            parts.append(f"{failed} failing")
        return ", ".join(parts)


def _no_layout(model: m.BaseModelEntry, basis: Basis) -> Fit:
    """The answer on a variant whose tensor layout the catalog does not know."""
    return Fit(
        model.id, "unknown", basis, f"the catalog knows no tensor layout for {model.name}, a model of its own"
    )


def verified_fit(model: m.BaseModelEntry, facts: HeaderFacts) -> Fit:
    """The stored header verdict on the model's architecture, with its counts."""
    if model.architecture is None:
        return _no_layout(model, "verified")
    verdict = facts.fits.get(model.architecture)
    if verdict is None:
        return Fit(model.id, "unknown", "verified", "the header analysis did not judge this architecture")
    return Fit(model.id, verdict.verdict, "verified", verdict.reason, verdict.counts, verdict.comfyui)


def _answer(lora: Architecture, model: Architecture) -> VerdictKind:
    """What ComfyUI does with a LoRA of architecture ``lora`` on ``model``, as far as the architectures tell."""
    if lora.size_class != model.size_class:
        return "no"
    return "partial" if lora.has_clip_branch and not model.has_clip_branch else "fits"


def _sizes(candidates: tuple[Architecture, ...]) -> str:
    sizes = {c.size_class for c in candidates}
    return " or ".join(s for s in SIZE_ORDER if s in sizes)


def _claimed_reason(answer: VerdictKind, candidates: tuple[Architecture, ...], model: Architecture) -> str:
    if answer == "partial":
        return (
            f"a Wan 2.1 I2V 14B LoRA on {model.label}, built without the CLIP branch: its image-branch keys are "
            "not loaded"
        )
    if answer == "no":
        return f"a {_sizes(candidates)} LoRA on a {model.size_class} model: its weights fail at merge"
    return f"a {_sizes(candidates)} LoRA on a {model.size_class} model: the sizes match"


def _undecided(candidates: tuple[Architecture, ...], model: Architecture) -> str:
    """Why the claims cannot decide: the size the name leaves open, or whether it is a Wan 2.1 I2V LoRA."""
    if not candidates:
        return "the file name and the entry name no Wan architecture"
    sizes = {c.size_class for c in candidates}
    if len(sizes) > 1:
        shown = " or ".join(s for s in SIZE_ORDER if s in sizes)
        return f"the file name states no model size ({shown})"
    return (
        f"the file name does not say whether it is a Wan 2.1 I2V 14B LoRA, whose image-branch keys "
        f"{model.label} would not load"
    )


def claimed_fit_of(model: m.BaseModelEntry, candidates: tuple[Architecture, ...], unplaced: str = "") -> Fit:
    """The claimed answer on ``model`` when the LoRA is one of ``candidates``: theirs when they agree.
    ``unplaced`` is the name's combination that no architecture has, when the candidates are its size's."""
    if model.architecture is None:
        return _no_layout(model, "claimed")
    arch = ARCHITECTURES[model.architecture]
    answers = {_answer(candidate, arch) for candidate in candidates}
    if len(answers) != 1:
        return Fit(model.id, "unknown", "claimed", _undecided(candidates, arch))
    answer = answers.pop()
    reason = _claimed_reason(answer, candidates, arch)
    if unplaced:
        reason += f" (by its size alone: no Wan architecture is {unplaced})"
    return Fit(model.id, answer, "claimed", reason)


def placed_architectures(claims: Claims) -> tuple[tuple[Architecture, ...], str]:
    """The architectures the claims allow, and ``""``; when generation, task and size together match none, those
    of the size class alone and the combination (``Wan 2.2 I2V 5B``): a stated size still says which shapes the
    file has, and so where its weights load and where they fail at merge."""
    found = tuple(ARCHITECTURES[a] for a in claimed_architectures(claims))
    if found or claims.size_class is None:
        return found, ""
    stated = (f"Wan {claims.generation}" if claims.generation else "", claims.task or "", claims.size_class)
    by_size = tuple(a for a in ARCHITECTURES.values() if a.size_class == claims.size_class)
    return by_size, " ".join(word for word in stated if word)


def named_expert_matches(expert: str | None, model: m.BaseModelEntry) -> bool:
    """The LoRA's expert agrees with the model entry's: a model without experts, or one entry for both, takes
    any; an entry for one expert needs a LoRA for that expert (or both)."""
    if model.expert in (None, "both"):
        return True
    return expert in (model.expert, "both")


class FitRules:
    """The catalog's fit and made-for answers; each LoRA's claims and citing recipes are read once."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._claims: dict[str, Claims] = {}
        self._placed: dict[str, tuple[tuple[Architecture, ...], str]] = {}
        self._cited = _cited_models(catalog)
        self._made_for: dict[str, tuple[str, ...]] = {}

    def claims(self, lora: m.Lora) -> Claims:
        """What the file name claims, completed by the entry's generation and task where it is silent."""
        found = self._claims.get(lora.id)
        if found is None:
            name = claims_from_filename(lora.file.path)
            found = self._claims[lora.id] = completed(name, lora.generation, lora.task)
        return found

    def placed(self, lora: m.Lora) -> tuple[tuple[Architecture, ...], str]:
        """:func:`placed_architectures` of the LoRA's claims, worked out once per LoRA."""
        found = self._placed.get(lora.id)
        if found is None:
            found = self._placed[lora.id] = placed_architectures(self.claims(lora))
        return found

    def expert(self, lora: m.Lora) -> str | None:
        """The noise expert the entry states, else the one its file name states."""
        return lora.expert or self.claims(lora).noise_level

    def candidates(self, lora: m.Lora) -> tuple[Architecture, ...]:
        """The architectures the LoRA may be for: those its claims allow (:func:`placed_architectures`); when
        they leave the size class open, those of the models its citing recipes load it on."""
        found = self.placed(lora)[0]
        if len({a.size_class for a in found}) < 2:
            return found
        cited = {self.catalog.model(model_id).architecture for model_id in self._cited.get(lora.id, ())} - {
            None
        }
        return tuple(a for a in found if a.id in cited) or found

    def claimed_fit(self, lora: m.Lora, model: m.BaseModelEntry) -> Fit:
        """The fit the name (and its citing sources) claim, before a header is read."""
        return claimed_fit_of(model, self.candidates(lora), self.placed(lora)[1])

    def fit(self, lora: m.Lora, model: m.BaseModelEntry, facts: HeaderFacts | None) -> Fit:
        """The verified fit when the header was read, else the claimed one."""
        return self.claimed_fit(lora, model) if facts is None else verified_fit(model, facts)

    def fits(self, lora: m.Lora, facts: HeaderFacts | None) -> tuple[Fit, ...]:
        """The fit on every model of the catalog, in catalog order."""
        return tuple(self.fit(lora, model, facts) for model in self.catalog.models)

    def loads_on(self, lora: m.Lora, facts: HeaderFacts | None) -> tuple[str, ...]:
        """The base models (never distilled checkpoints) ComfyUI applies the LoRA to, verified or claimed."""
        return tuple(
            f.model
            for f, model in zip(self.fits(lora, facts), self.catalog.models, strict=True)
            if f.fitting and model.kind == "base"
        )

    def made_for(self, lora: m.Lora) -> tuple[str, ...]:
        """The base models the LoRA was made for (see the module's docstring), in catalog order; a variant its
        recipes load it on only when no base model is named or cited (a LoRA for Wan 2.1 I2V that a SCAIL-2
        template also loads stays made for Wan 2.1 I2V)."""
        found = self._made_for.get(lora.id)
        if found is None:
            cited = set(self._cited.get(lora.id, ()))
            bases = tuple(
                model.id
                for model in self.catalog.models
                if model.kind == "base" and (model.id in cited or self._named(lora, model))
            )
            variants = tuple(
                model.id for model in self.catalog.models if model.kind == "variant" and model.id in cited
            )
            found = self._made_for[lora.id] = bases or variants
        return found

    def is_made_for(self, lora: m.Lora, model: m.BaseModelEntry) -> bool:
        """True when the LoRA was made for this model."""
        return model.id in self.made_for(lora)

    def loras_made_for(self, model: m.BaseModelEntry) -> tuple[m.Lora, ...]:
        """The LoRAs made for this model, in catalog order (none for a distilled checkpoint)."""
        return tuple(lora for lora in self.catalog.loras if self.is_made_for(lora, model))

    def _named(self, lora: m.Lora, model: m.BaseModelEntry) -> bool:
        """The name and entry state generation, task, size class and expert, and they are the model's."""
        claims = self.claims(lora)
        if None in (claims.generation, claims.task, claims.size_class):
            return False
        return model.architecture in claimed_architectures(claims) and named_expert_matches(
            self.expert(lora), model
        )


def _cited_models(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """LoRA id → the base models the recipes citing it load it on (a stage's ``model``), in catalog order."""
    found: dict[str, set[str]] = {}
    for recipe in catalog.recipes:
        stages = [s for path in (recipe.lora_path, recipe.default_path) if path for s in path.stages]
        for stage in stages:
            for use in stage.loras:
                if use.lora is not None and stage.model is not None:
                    found.setdefault(use.lora, set()).add(stage.model)
    order = [model.id for model in catalog.models if model.kind != "distilled"]
    return {lora: tuple(i for i in order if i in models) for lora, models in found.items()}
