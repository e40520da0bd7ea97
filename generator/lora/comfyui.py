"""Verdicts: what native ComfyUI's ``LoraLoaderModelOnly`` does with a Wan LoRA on each architecture (issue 19).

:mod:`generator.lora.comfyui_loader` models ComfyUI's loader (cited ``file:line`` at Comfy-Org/ComfyUI v0.29.0,
commit a8c44f9b); this module sorts every LoRA weight key (pairs, LyCORIS factors, ``.diff``/``.diff_b``; never
``.alpha`` scalars or metadata) into one outcome and judges the file:

* **fits**: something is applied, nothing fails at merge, and no key is left out;
* **partial**: some patches apply, and some keys are not loaded, never merged, replaced or fail at merge;
* **no**: nothing applies, merge errors outnumber what applies, or ComfyUI raises while loading the file;
* **unknown**: no key looks like a LoRA weight, or an adapter whose merge is not modelled (OFT, GLoRA, LoCon
  ``lora_mid``) is loaded.

The reason gives the counts ("400 of 527 patches applied …; 290 image-branch keys not loaded …") and says when
Kijai's WanVideoWrapper (:mod:`generator.lora.comfyui_wrapper`) would load keys native ComfyUI leaves out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import get_args

from generator.lora.architectures import (
    Architecture,
    get_architecture,
    is_flf,
    is_image_branch,
    is_vace,
    split_block,
)
from generator.lora.comfyui_loader import (
    COMFYUI_LABEL,
    Loaded,
    Outcome,
    Shape,
    builds_i2v,
    convert_lora,
    load_lora,
    lora_key_map,
    merge_outcome,
    model_parameters,
    same_key_map,
    stems_of,
    unmerged_parameters,
)
from generator.lora.comfyui_wrapper import wrapper_rename
from generator.lora.facts import NotLoadedCause, PatchCounts, Verdict, VerdictKind
from generator.lora.keys import canonicalise, key_prefix, split_key
from generator.lora.modules import generic_name
from generator.lora.parse import TensorSpec
from generator.vocabulary import ARCHITECTURE_IDS, ArchitectureId

_PREFIX = "diffusion_model."
_canonical = lru_cache(maxsize=16384)(canonicalise)
"""``canonicalise`` once per name: the same stems are judged on all six architectures (and again in the wrapper's
count), and the regular-expression rewrites behind it dominate the time otherwise."""


@dataclass(frozen=True)
class PatchGroup:
    """Keys ComfyUI handles together and what becomes of them.

    For a loaded patch ``target`` is the model parameter (``diffusion_model.blocks.0.ffn.0.weight``); for keys
    ComfyUI does not load it is their shared stem, and ``detail`` names the cause (:data:`CAUSES`). ``keys`` never
    holds ``.alpha`` scalars, which are not weights.
    """

    target: str
    keys: tuple[str, ...]
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True)
class ComfyFit:
    """Native ComfyUI's handling of one LoRA file on one architecture."""

    architecture: ArchitectureId
    verdict: VerdictKind
    reason: str
    groups: tuple[PatchGroup, ...]
    wrapper_keys: int
    """Keys native ComfyUI does not load that Kijai's WanVideoWrapper would load, after renaming them, onto a
    parameter of their shape (a 14B key that would only fail at merge on a 1.3B model is not counted)."""

    def patches(self, outcome: Outcome) -> int:
        """How many groups end with ``outcome``."""
        return sum(1 for g in self.groups if g.outcome == outcome)

    def keys(self, outcome: Outcome) -> int:
        """How many (non-alpha) keys end with ``outcome``."""
        return sum(len(g.keys) for g in self.groups if g.outcome == outcome)

    def counts(self) -> PatchCounts:
        """The numbers behind the reason: patches by outcome, keys not loaded by cause, wrapper keys."""
        outcomes = Counter(g.outcome for g in self.groups)
        causes = Counter[str]()
        for g in self.groups:
            if g.outcome == "not_loaded":
                causes[g.detail] += len(g.keys)
        return PatchCounts(
            patches=len(self.groups),
            outcomes={o: outcomes[o] for o in get_args(Outcome) if outcomes[o]},
            keys_not_loaded={c: causes[c] for c in CAUSES if causes[c]},
            wrapper_keys=self.wrapper_keys,
        )

    def as_verdict(self) -> Verdict:
        """The catalog's :class:`~generator.lora.facts.Verdict` for this fit, with its counts and the release."""
        return Verdict(verdict=self.verdict, reason=self.reason, comfyui=COMFYUI_LABEL, counts=self.counts())


CAUSES: tuple[NotLoadedCause, ...] = get_args(NotLoadedCause)
"""Why keys are not loaded (``PatchGroup.detail``), in the order reasons list them."""


def _prefixes(hit: list[PatchGroup]) -> str:
    shown = sorted({key_prefix(g.target) or "unprefixed" for g in hit})
    return " or ".join(p if p == "unprefixed" else f"{p}…" for p in shown)


def _keys(count: int) -> str:
    return f"{count} key" if count == 1 else f"{count} keys"


def _cause_text(cause: str, hit: list[PatchGroup], arch: Architecture) -> str:
    """``290 image-branch keys not loaded (… is built without the CLIP branch)``-style text for one cause."""
    keys = _keys(sum(len(g.keys) for g in hit))
    if cause == "blocks-beyond":
        last = max(split_block(_module(g.target))[0] or 0 for g in hit)
        return f"{keys} for blocks {arch.layers}–{last} not loaded ({arch.label} has {arch.layers} blocks)"
    texts = {
        "prefix": f"{keys} not loaded: native ComfyUI maps no {_prefixes(hit)} names for Wan",
        "lora_unet__": f"{keys} in Wan-Fun lora_unet__ naming not loaded (ComfyUI renames that prefix only when "
        "lora_unet__blocks_0_cross_attn_k.lora_down.weight is present)",
        "diffusers-names": f"{keys} with diffusers module names not loaded ({_examples(hit)})",
        "diff_m": f"{keys} of LightX2V modulation deltas (.diff_m) not loaded",
        "vace": f"{keys} for VACE modules not loaded ({arch.label} has no vace_blocks)",
        "flf": f"{keys} for img_emb.emb_pos not loaded (only the Wan 2.1 FLF2V model has it)",
        "image-branch": f"{keys} of the image branch not loaded ({arch.label} is built without the CLIP branch)",
        "no-parameter": f"{keys} patching parameters {arch.label} does not have ({_examples(hit)})",
    }
    return texts.get(cause, f"{keys} with names or suffixes ComfyUI does not read ({_examples(hit)})")


def _relevant(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in keys if not k.endswith(".alpha"))


def _cause(name: str, arch: Architecture) -> str:
    """Why ComfyUI left ``name`` out: its prefix, its module names, or a module ``arch`` lacks."""
    prefix = key_prefix(name)
    if prefix not in (_PREFIX, "lora_unet_"):
        return "lora_unet__" if prefix == "lora_unet__" else "prefix"
    split = split_key(name)
    if split is None:
        return "unread"
    stem, role, _family = split
    if role == "diff_m":
        return "diff_m"
    _vote, module, diffusers = _canonical(stem)
    if module is None:
        return "unread"
    if diffusers:
        return "diffusers-names"
    index, _local = split_block(module)
    checks = (
        ("vace", is_vace(module)),
        ("flf", is_flf(module)),
        ("image-branch", is_image_branch(module) and not builds_i2v(arch)),
        ("blocks-beyond", index is not None and index >= arch.layers),
    )
    return next((cause for cause, hit in checks if hit), "unread")


def _stem(name: str) -> str:
    split = split_key(name)
    if split is None:
        return name
    return split[0] + (".bias" if split[1] == "diff_b" else "")


def _patch_groups(loaded: Loaded, arch_id: str) -> list[PatchGroup]:
    params, unmerged = model_parameters(arch_id), unmerged_parameters(arch_id)
    groups = []
    for target, patch in loaded.patches.items():
        outcome: Outcome
        if target not in params:
            outcome, detail = "not_loaded", "no-parameter"
        elif target in unmerged:
            outcome, detail = "never_merged", ""
        else:
            outcome, detail = merge_outcome(patch, params[target])
        groups.append(PatchGroup(target, _relevant(patch.keys), outcome, detail))
    groups += [PatchGroup(t, _relevant(p.keys), "superseded") for t, p in loaded.superseded]
    return groups


class _File:
    """One header's keys, read once for the six architectures: as ComfyUI converts them, and (only when some key
    is not loaded natively) as Kijai's wrapper renames them."""

    def __init__(self, tensors: Mapping[str, TensorSpec]) -> None:
        self.shapes: dict[str, Shape] = {name: spec.shape for name, spec in tensors.items()}
        self.lora = convert_lora(self.shapes)
        self.names = sorted(self.lora)
        self.stems = stems_of(self.lora)
        self._loaded: dict[tuple[str, bool], Loaded] = {}

    def loaded(self, arch_id: str, *, wrapper: bool = False) -> Loaded:
        """``load_lora`` of the file (or of the wrapper's renaming) on ``arch_id``'s key map, once per key map."""
        key = (same_key_map(arch_id), wrapper)
        found = self._loaded.get(key)
        if found is None:
            lora, stems = self.wrapper_lora if wrapper else (self.lora, self.stems)
            found = self._loaded[key] = load_lora(lora, lora_key_map(arch_id), stems)
        return found

    @cached_property
    def renamed(self) -> dict[str, tuple[str, Shape]]:
        """The wrapper's name → (the file's name, shape)."""
        return wrapper_rename(self.shapes)

    @cached_property
    def wrapper_lora(self) -> tuple[dict[str, Shape], frozenset[str]]:
        """The renamed file as ComfyUI's loader reads it, and its stems."""
        lora = {new: shape for new, (_old, shape) in self.renamed.items()}
        return lora, stems_of(lora)


def _groups(file: _File, arch: Architecture) -> list[PatchGroup]:
    """Every relevant key of the file in one group with its outcome on ``arch``."""
    loaded = file.loaded(arch.id)
    groups = _patch_groups(loaded, arch.id)
    left: dict[str, list[str]] = {}
    for name in file.names:
        if name not in loaded.read and not name.endswith(".alpha"):
            left.setdefault(_stem(name), []).append(name)
    for stem, names in left.items():
        groups.append(PatchGroup(stem, tuple(names), "not_loaded", _cause(names[0], arch)))
    return [g for g in groups if g.keys]


def _judge(groups: list[PatchGroup], recognised: bool) -> VerdictKind:
    """fits / partial / no / unknown from the outcomes (issue 19's definitions)."""
    count = Counter(g.outcome for g in groups)
    if not groups or not recognised or (count["unmodelled"] and not count["load_error"]):
        return "unknown"
    if count["load_error"] or not count["applied"] or count["merge_error"] > count["applied"]:
        return "no"
    return "fits" if len(count) == 1 else "partial"


@lru_cache(maxsize=8192)
def _module(target: str) -> str:
    """The canonical module a group targets (its original Wan name when known), for messages; cached, as the
    same targets come back on all six architectures."""
    stem = target.removeprefix(_PREFIX).removesuffix(".weight")
    _vote, module, _diffusers = _canonical(target.removesuffix(".weight"))
    return module if module is not None and not target.endswith(".bias") else stem


def _shown(target: str) -> str:
    return generic_name(_module(target))


def _examples(groups: list[PatchGroup]) -> str:
    names = sorted({_shown(g.target) for g in groups})
    return ", ".join(names[:3]) + (" …" if len(names) > 3 else "")


def _not_loaded_parts(groups: list[PatchGroup], arch: Architecture) -> list[str]:
    by_cause: dict[str, list[PatchGroup]] = {}
    for g in groups:
        if g.outcome == "not_loaded":
            by_cause.setdefault(g.detail, []).append(g)
    return [_cause_text(cause, by_cause[cause], arch) for cause in CAUSES if cause in by_cause]


def _other_parts(groups: list[PatchGroup], arch: Architecture) -> list[str]:
    def of(outcome: Outcome) -> list[PatchGroup]:
        return [g for g in groups if g.outcome == outcome]

    texts: tuple[tuple[Outcome, str, str], ...] = (
        ("never_merged", "", "loaded but never merged (parameters of modules with child modules)"),
        ("merge_error", "fail", f"at merge (shape mismatch with {arch.label})"),
        ("superseded", "", "replaced by a later patch on the same weight"),
        ("load_error", "make", "ComfyUI raise while loading"),
        ("unmodelled", "use", "adapters whose merge this check does not model"),
    )
    parts = []
    for outcome, verb, text in texts:
        hit = of(outcome)
        if hit:
            conjugated = verb + "s" if verb and len(hit) == 1 else verb
            phrase = " ".join(w for w in (_patches(len(hit)), conjugated, text) if w)
            parts.append(f"{phrase}: {_examples(hit)}")
    return parts


def _patches(count: int) -> str:
    return f"{count} patch" if count == 1 else f"{count} patches"


def _reason(groups: list[PatchGroup], arch: Architecture, wrapper_keys: int, verdict: VerdictKind) -> str:
    if not groups:
        return "no LoRA weight key in the header"
    applied = sum(1 for g in groups if g.outcome == "applied")
    head = f"{applied} of {len(groups)} patches applied by {COMFYUI_LABEL} on {arch.label}"
    if verdict == "fits":
        return head
    parts = [head, *_not_loaded_parts(groups, arch), *_other_parts(groups, arch)]
    if wrapper_keys:
        parts.append(
            f"Kijai's WanVideoWrapper would load {wrapper_keys} of the keys native ComfyUI leaves out"
        )
    return "; ".join(parts)


def _original(name: str, shapes: Mapping[str, Shape]) -> str:
    """The file's own name of a key ``convert_lora`` may have renamed (``lora_unet__`` → ``lora_unet_``)."""
    if name in shapes or not name.startswith("lora_unet_"):
        return name
    return "lora_unet__" + name.removeprefix("lora_unet_")


def _wrapper_keys(file: _File, groups: list[PatchGroup], arch_id: str) -> int:
    """Keys not loaded natively that load once the wrapper has renamed them (:mod:`.comfyui_wrapper`), onto a
    parameter their patch's shapes fit: the wrapper hands the renamed file to the same loader and merge, so a key
    whose patch fails at merge there (``weight_adapter/lora.py:267-285``) gains the reader nothing."""
    missing = {_original(k, file.shapes) for g in groups if g.outcome == "not_loaded" for k in g.keys}
    if not missing:
        return 0
    renamed = file.renamed
    loaded = file.loaded(arch_id, wrapper=True)
    params = model_parameters(arch_id)
    took = {
        k
        for target, p in loaded.patches.items()
        if target in params and merge_outcome(p, params[target])[0] == "applied"
        for k in p.keys
    }
    return sum(1 for new in took if renamed[new][0] in missing)


def comfyui_fit(tensors: Mapping[str, TensorSpec], architecture_id: str) -> ComfyFit:
    """What ``LoraLoaderModelOnly`` of :data:`COMFYUI_LABEL` does with this header on one architecture."""
    return _fit(_File(tensors), get_architecture(architecture_id))


def _fit(file: _File, arch: Architecture) -> ComfyFit:
    groups = _groups(file, arch)
    recognised = any(g.outcome != "not_loaded" or any(split_key(k) for k in g.keys) for g in groups)
    wrapper = _wrapper_keys(file, groups, arch.id)
    verdict = _judge(groups, recognised)
    return ComfyFit(arch.id, verdict, _reason(groups, arch, wrapper, verdict), tuple(groups), wrapper)


def comfyui_fits(tensors: Mapping[str, TensorSpec]) -> dict[ArchitectureId, ComfyFit]:
    """:func:`comfyui_fit` on every architecture, in catalog order (the header's keys read once)."""
    file = _File(tensors)
    return {arch_id: _fit(file, get_architecture(arch_id)) for arch_id in ARCHITECTURE_IDS}
