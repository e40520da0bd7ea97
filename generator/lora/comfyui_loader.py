"""ComfyUI's LoRA loader as a model: which keys native ``LoraLoaderModelOnly`` loads on a Wan model, and how each merges.

The verdict is read from ComfyUI's code (Comfy-Org/ComfyUI v0.29.0, commit a8c44f9b, cited as ``file:line``), never
from this project's shape table, so it says what a reader's ComfyUI will do rather than what the file was made for:

1. ``comfy/lora_convert.py:36-43``: ``lora_unet__`` becomes ``lora_unet_`` (Wan-Fun) only when the exact key
   ``lora_unet__blocks_0_cross_attn_k.lora_down.weight`` is present (line 39).
2. ``comfy/lora.py:187-198``: for Wan the key map has no model-specific block; every parameter ``P.weight`` of the
   model is reachable as ``diffusion_model.P`` and ``lora_unet_<P with "." as "_">``, every other parameter (bias,
   ``modulation``) as its own name. ``comfy/utils.py:336-338``: ``unet_to_diffusers`` returns nothing for a config
   without ``num_res_blocks``, so no ``lycoris_``/diffusers names are added (``comfy/lora.py:200-213``).
3. ``comfy/lora.py:37-95`` (``load_lora``): for each mapped name ``X`` the adapters of
   ``comfy/weight_adapter/__init__.py:15-22`` are tried in order (LoRA ``lora.py:159-215``, LoHa ``loha.py:179-210``,
   LoKr ``lokr.py:211-273``, GLoRA, OFT, BOFT), then ``X.w_norm``/``b_norm``, ``X.diff``, ``X.diff_b``,
   ``X.set_weight``; a later patch on the same parameter replaces an earlier one. Keys read by none are logged
   "lora key not loaded" (line 93). No shape is checked here.
4. ``comfy/model_patcher.py:789-811`` (``add_patches``) keeps patches on parameters the model has; the rest are
   logged "NOT LOADED" (``comfy/sd.py:122-124``).
5. ``comfy/model_patcher.py:892-927`` (``_load_list``): a module that owns parameters and also has child modules
   with parameters is left out of what is loaded and patched, so patches on ``blocks.N.modulation`` and
   ``head.modulation`` are accepted and never merged.
6. Merge: ``comfy/weight_adapter/lora.py:267-285`` reshapes ``up @ down`` to the weight's shape and logs
   ``ERROR lora …`` when the sizes differ; LoHa (``loha.py:280-295``) and LoKr (``lokr.py:348-363``) alike;
   a ``.diff`` of another shape is logged "WARNING SHAPE MISMATCH … WEIGHT NOT MERGED" (``comfy/lora.py:484-485``).
   Factor products computed before those ``try`` blocks (``loha.py:234-278``, ``lokr.py:297-339``) and a missing
   LoRA half (``lora.py:210``) raise, and the whole LoRA fails to load.

The model ComfyUI builds comes from ``comfy/model_detection.py:670-712`` and ``comfy/ldm/wan/model.py`` (see
:func:`model_parameters`): only a checkpoint with ``img_emb.proj.0.bias`` (Wan 2.1 I2V) is an ``i2v`` model with
the CLIP branch; Wan 2.2 I2V A14B is a ``t2v`` model with 36 input channels (line 686). A *patch* is one changed
model parameter: a LoRA pair, a LyCORIS factor set or a full delta (``.diff``/``.diff_b``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

from generator.lora.architectures import CLIP_DIM, FREQ_DIM, TEXT_DIM, Architecture, get_architecture
from generator.lora.facts import PatchOutcome
from generator.vocabulary import ARCHITECTURE_IDS

COMFYUI_VERSION = "v0.29.0"
COMFYUI_COMMIT = "a8c44f9b2a0678ac4082e3529a3f43db7472acfe"
COMFYUI_LABEL = f"ComfyUI {COMFYUI_VERSION} ({COMFYUI_COMMIT[:8]})"
"""The one ComfyUI release the verdicts describe (Comfy-Org/ComfyUI; the silveroxides/ComfyUI fork holds it)."""

Shape = tuple[int, ...]
Outcome = PatchOutcome
_PREFIX = "diffusion_model."


# ------------------------------------------------------------------ the model ComfyUI builds (state dict)


def _linear(params: dict[str, Shape], name: str, out: int, inp: int) -> None:
    params[f"{name}.weight"], params[f"{name}.bias"] = (out, inp), (out,)


def _block(params: dict[str, Shape], index: int, arch: Architecture, i2v: bool) -> None:
    """``WanAttentionBlock`` (``comfy/ldm/wan/model.py:177-215``): norm1/norm2 carry no parameters, norm3 is an
    affine LayerNorm, RMSNorms have a weight only (``comfy/ops.py:627-630``), ``modulation`` is a bare parameter."""
    d, b = arch.dim, f"{_PREFIX}blocks.{index}"
    for attention in ("self_attn", "cross_attn"):
        for proj in "qkvo":
            _linear(params, f"{b}.{attention}.{proj}", d, d)
        for norm in ("norm_q", "norm_k"):
            params[f"{b}.{attention}.{norm}.weight"] = (d,)
        if attention == "self_attn":
            params[f"{b}.norm3.weight"], params[f"{b}.norm3.bias"] = (d,), (d,)
    if i2v:  # WanI2VCrossAttention, model.py:119-132
        _linear(params, f"{b}.cross_attn.k_img", d, d)
        _linear(params, f"{b}.cross_attn.v_img", d, d)
        params[f"{b}.cross_attn.norm_k_img.weight"] = (d,)
    _linear(params, f"{b}.ffn.0", arch.ffn_dim, d)
    _linear(params, f"{b}.ffn.2", d, arch.ffn_dim)
    params[f"{b}.modulation"] = (1, 6, d)


def builds_i2v(arch: Architecture) -> bool:
    """ComfyUI builds an ``i2v`` model (CLIP branch) only from a checkpoint with ``img_emb.proj.0.bias``
    (``comfy/model_detection.py:709-712``): of the six, Wan 2.1 I2V 14B; Wan 2.2 I2V A14B has no ``img_emb``."""
    return arch.has_clip_branch


@cache
def model_parameters(arch_id: str) -> Mapping[str, Shape]:
    """Parameter names and shapes of the Wan model ComfyUI builds for ``arch_id`` (``model.state_dict()``).

    ``WanModel.__init__`` (``comfy/ldm/wan/model.py:486-514``): patch_embedding Conv3d(in_dim, dim, (1, 2, 2)),
    text/time embeddings, time_projection, the blocks, ``Head`` (``model.py:345-360``: Linear(dim, 4·out_dim) and
    ``modulation``) and, for ``i2v`` only, ``MLPProj`` (``model.py:378-386``; no ``emb_pos`` outside FLF2V).
    """
    arch = get_architecture(arch_id)
    d, i2v = arch.dim, builds_i2v(arch)
    params: dict[str, Shape] = {
        f"{_PREFIX}patch_embedding.weight": (d, arch.in_dim, 1, 2, 2),
        f"{_PREFIX}patch_embedding.bias": (d,),
    }
    for name, out, inp in (
        ("text_embedding.0", d, TEXT_DIM),
        ("text_embedding.2", d, d),
        ("time_embedding.0", d, FREQ_DIM),
        ("time_embedding.2", d, d),
        ("time_projection.1", 6 * d, d),
    ):
        _linear(params, _PREFIX + name, out, inp)
    for index in range(arch.layers):
        _block(params, index, arch, i2v)
    _linear(params, f"{_PREFIX}head.head", 4 * arch.out_dim, d)
    params[f"{_PREFIX}head.modulation"] = (1, 2, d)
    if i2v:
        for norm, width in (("img_emb.proj.0", CLIP_DIM), ("img_emb.proj.4", d)):
            params[f"{_PREFIX}{norm}.weight"], params[f"{_PREFIX}{norm}.bias"] = (width,), (width,)
        _linear(params, f"{_PREFIX}img_emb.proj.1", CLIP_DIM, CLIP_DIM)
        _linear(params, f"{_PREFIX}img_emb.proj.3", d, CLIP_DIM)
    return params


@cache
def unmerged_parameters(arch_id: str) -> frozenset[str]:
    """Parameters of modules that also have child modules with parameters: ``_load_list`` skips such modules
    (``comfy/model_patcher.py:896-904``), so a patch on them is never merged (``blocks.N.modulation`` …)."""
    params = model_parameters(arch_id)
    parents = {owner[:i] for name in params for owner in [name.rpartition(".")[0]] for i in _dots(owner)}
    return frozenset(name for name in params if name.rpartition(".")[0] in parents)


def _dots(path: str) -> list[int]:
    """Positions of the dots in ``path``: ``path[:i]`` are its ancestor module paths."""
    return [i for i, char in enumerate(path) if char == "."]


@cache
def lora_key_map(arch_id: str) -> Mapping[str, str]:
    """LoRA name → parameter, in ComfyUI's order (``comfy/lora.py:191-198``); nothing else for Wan."""
    names: dict[str, str] = {}
    for param in model_parameters(arch_id):
        if param.endswith(".weight"):
            stem = param.removesuffix(".weight")
            names["lora_unet_" + stem.removeprefix(_PREFIX).replace(".", "_")] = param
            names[stem] = param
        else:
            names[param] = param
    return names


@cache
def same_key_map(arch_id: str) -> str:
    """The first architecture (catalog order) whose key map equals ``arch_id``'s: ``load_lora`` gives them the
    same patches (the 14B T2V-type models share every name, the 1.3B and 5B models too), so one load serves."""
    names = lora_key_map(arch_id)
    return next(a for a in ARCHITECTURE_IDS if lora_key_map(a) == names)


# ------------------------------------------------------------------------------------- load_lora


@dataclass(frozen=True)
class Patch:
    """One patch ``load_lora`` builds: its kind, the keys it consumed and their shapes."""

    kind: str
    parts: Mapping[str, Shape]
    keys: tuple[str, ...]
    broken: str = ""


_LORA_HALVES: tuple[tuple[str, str, str | None], ...] = (
    (".lora_up.weight", ".lora_down.weight", ".lora_mid.weight"),
    ("_lora.up.weight", "_lora.down.weight", None),
    (".lora_B.weight", ".lora_A.weight", None),
    (".lora.up.weight", ".lora.down.weight", None),
    (".lora_B", ".lora_A", None),
    (".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", None),
    (".lora_B.default.weight", ".lora_A.default.weight", None),
)
"""``(up, down, mid)`` suffixes in the order ``LoRAAdapter.load`` tries them (``comfy/weight_adapter/lora.py:159-196``)."""
_LOHA = ("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2")
_LOKR = ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b", "lokr_t2")
_GLORA = ("a1.weight", "a2.weight", "b1.weight", "b2.weight")
_OFT = ("oft_blocks", "rescale")


def _take(lora: Mapping[str, Shape], x: str, suffixes: tuple[str, ...], kind: str, broken: str = "") -> Patch:
    found = {s: lora[x + s] for s in suffixes if x + s in lora}
    return Patch(
        kind, {s.lstrip("._"): shape for s, shape in found.items()}, tuple(x + s for s in found), broken
    )


def _lora_patch(lora: Mapping[str, Shape], x: str) -> Patch | None:
    """``LoRAAdapter.load``: the first up-suffix present decides; a missing down half raises (``lora.py:210``)."""
    for up, down, mid in _LORA_HALVES:
        if x + up not in lora:
            continue
        named = {"up": up, "down": down, "mid": mid, "reshape": ".reshape_weight"}
        parts = {role: lora[x + s] for role, s in named.items() if s is not None and x + s in lora}
        keys = tuple(x + s for role, s in named.items() if role in parts and s is not None)
        return Patch("lora", parts, keys, "" if "down" in parts else f"{x}{up} without {down}")
    return None


def _loha_patch(lora: Mapping[str, Shape], x: str) -> Patch | None:
    """``LoHaAdapter.load``: ``hada_w1_a`` triggers; the other three factors (and ``hada_t2`` with ``hada_t1``) are
    read unconditionally (``loha.py:185-207``)."""
    if f"{x}.hada_w1_a" not in lora:
        return None
    needed = ("hada_w1_b", "hada_w2_a", "hada_w2_b", *(("hada_t2",) if f"{x}.hada_t1" in lora else ()))
    missing = [n for n in needed if f"{x}.{n}" not in lora]
    return _take(
        lora, x, tuple("." + n for n in _LOHA), "loha", ", ".join(missing) + " missing" if missing else ""
    )


def _adapter_patches(lora: Mapping[str, Shape], x: str) -> list[Patch]:
    """Every adapter that loads at ``x``, in ``weight_adapter.adapters`` order (a later one replaces an earlier)."""
    patches = [p for p in (_lora_patch(lora, x), _loha_patch(lora, x)) if p is not None]
    if any(f"{x}.{n}" in lora for n in ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w2_a")):
        patches.append(_take(lora, x, tuple("." + n for n in _LOKR), "lokr"))
    if f"{x}.a1.weight" in lora:
        patches.append(_take(lora, x, tuple("." + n for n in _GLORA), "glora"))
    if f"{x}.oft_blocks" in lora:
        patches.append(_take(lora, x, tuple("." + n for n in _OFT), "oft"))
    return patches


def _bias_of(target: str) -> str:
    """``load_lora``'s bias name: the target minus its last seven characters plus ``.bias`` (``lora.py:81``)."""
    return target[: -len(".weight")] + ".bias"


@dataclass
class Loaded:
    """What ``load_lora`` produced: patches by parameter, replaced patches, and every key it read."""

    patches: dict[str, Patch]
    superseded: list[tuple[str, Patch]]
    read: set[str]

    def put(self, target: str, patch: Patch) -> None:
        previous = self.patches.get(target)
        if previous is not None:
            self.superseded.append((target, previous))
        self.patches[target] = patch
        self.read.update(patch.keys)


def stems_of(lora: Mapping[str, Shape]) -> frozenset[str]:
    """Every name a key of ``lora`` could be ``X.<suffix>`` (or ``X_lora.<suffix>``) of: the only ``X`` worth trying.

    Found with ``str.find`` rather than character by character: a 1,749-key header is read six times per file."""
    found: set[str] = set()
    for key in lora:
        for marker in (".", "_lora."):
            at = key.find(marker)
            while at != -1:
                found.add(key[:at])
                at = key.find(marker, at + 1)
    return frozenset(found)


def load_lora(
    lora: Mapping[str, Shape], key_map: Mapping[str, str], stems: frozenset[str] | None = None
) -> Loaded:
    """Model of ``load_lora`` (``comfy/lora.py:37-95``) over the names ``key_map`` offers; ``stems`` are
    :func:`stems_of` ``lora`` when the caller has them already (one file is loaded on six architectures)."""
    loaded = Loaded({}, [], set())
    stems = stems_of(lora) if stems is None else stems
    for x, target in key_map.items():
        if x not in stems:
            continue
        loaded.read.update(k for k in (f"{x}.alpha", f"{x}.dora_scale") if k in lora)
        dora = (f"{x}.dora_scale",) if f"{x}.dora_scale" in lora else ()
        for patch in _adapter_patches(lora, x):
            loaded.put(target, replace(patch, keys=patch.keys + dora) if dora else patch)
        for suffix, kind, where in (
            (".w_norm", "diff", target),
            (".b_norm", "diff", _bias_of(target)),
            (".diff", "diff", target),
            (".diff_b", "diff", _bias_of(target)),
            (".set_weight", "set", target),
        ):
            if x + suffix in lora and (suffix != ".b_norm" or f"{x}.w_norm" in lora):
                loaded.put(where, Patch(kind, {"delta": lora[x + suffix]}, (x + suffix,)))
    return loaded


def convert_lora(lora: Mapping[str, Shape]) -> dict[str, Shape]:
    """``convert_lora`` (``comfy/lora_convert.py:36-43``): the Wan-Fun rename needs one exact key."""
    if "lora_unet__blocks_0_cross_attn_k.lora_down.weight" not in lora:
        return dict(lora)
    return {
        ("lora_unet_" + k.removeprefix("lora_unet__") if k.startswith("lora_unet__") else k): v
        for k, v in lora.items()
    }


# ------------------------------------------------------------------------------------------- merge


class _Raises(Exception):
    """A product ComfyUI computes outside its ``try`` block fails: the LoRA does not load at all."""


def _mm(a: Shape | None, b: Shape | None, what: str) -> Shape:
    if a is None or b is None or len(a) != 2 or len(b) != 2 or a[1] != b[0]:
        raise _Raises(f"{what} factors {a} × {b} do not multiply")
    return a[0], b[1]


def _tucker(t: Shape | None, b: Shape | None, a: Shape | None, what: str) -> Shape:
    """``einsum("i j k l, j r, i p -> p r k l", t, b, a)``."""
    if (
        t is None
        or b is None
        or a is None
        or len(t) != 4
        or len(b) != 2
        or len(a) != 2
        or (t[0], t[1]) != (a[0], b[0])
    ):
        raise _Raises(f"{what} Tucker factors do not fit")
    return a[1], b[1], t[2], t[3]


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    """Shape of ``a * b`` under torch broadcasting, ``None`` when they do not broadcast."""
    out: list[int] = []
    for x, y in zip(
        reversed((1,) * (len(b) - len(a)) + a), reversed((1,) * (len(a) - len(b)) + b), strict=True
    ):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(reversed(out))


def _delta_size(patch: Patch) -> int | None:
    """Elements of the delta an adapter computes (``None``: it cannot be computed inside ComfyUI's ``try``)."""
    p = patch.parts
    if patch.kind == "lora":
        up, down = p["up"], p["down"]
        if len(up) < 2 or len(down) < 2 or math.prod(up[1:]) != down[0]:
            return None
        return up[0] * math.prod(down[1:])
    if patch.kind == "loha":
        tucker = "hada_t1" in p
        first = (
            _tucker(p.get("hada_t1"), p.get("hada_w1_b"), p.get("hada_w1_a"), "LoHa")
            if tucker
            else _mm(p.get("hada_w1_a"), p.get("hada_w1_b"), "LoHa")
        )
        second = (
            _tucker(p.get("hada_t2"), p.get("hada_w2_b"), p.get("hada_w2_a"), "LoHa")
            if tucker
            else _mm(p.get("hada_w2_a"), p.get("hada_w2_b"), "LoHa")
        )
        both = _broadcast(first, second)
        return math.prod(both) if both is not None else None
    w1 = p.get("lokr_w1")
    if w1 is None:
        w1 = _mm(p.get("lokr_w1_a"), p.get("lokr_w1_b"), "LoKr w1")
    w2 = p.get("lokr_w2")
    if w2 is None and "lokr_t2" in p:
        w2 = _tucker(p.get("lokr_t2"), p.get("lokr_w2_b"), p.get("lokr_w2_a"), "LoKr w2")
    elif w2 is None:
        w2 = _mm(p.get("lokr_w2_a"), p.get("lokr_w2_b"), "LoKr w2")
    return math.prod(w1) * math.prod(w2)


def merge_outcome(patch: Patch, weight: Shape) -> tuple[Outcome, str]:
    """Outcome of merging ``patch`` into a parameter of shape ``weight``, with a short detail."""
    if patch.broken:
        return "load_error", patch.broken
    if patch.kind in ("glora", "oft") or "mid" in patch.parts or "reshape" in patch.parts:
        return "unmodelled", patch.kind
    if patch.kind in ("diff", "set"):
        delta = patch.parts["delta"]
        if delta == weight:
            return "applied", ""
        return ("merge_error" if patch.kind == "diff" else "load_error"), f"{list(delta)} vs {list(weight)}"
    try:
        size = _delta_size(patch)
    except _Raises as error:
        return "load_error", str(error)
    if size == math.prod(weight):
        return "applied", ""
    return "merge_error", f"{size} elements vs {list(weight)}"
