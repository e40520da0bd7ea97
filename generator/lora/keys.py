"""Header keys: suffix splitting and the canonical Wan module names behind every key format."""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.lora.facts import Role, SuffixFamily
from generator.lora.parse import TensorSpec

_PAIR_SUFFIXES: tuple[tuple[str, Role, SuffixFamily], ...] = (
    (".lora_A.default.weight", "down", "lora_A/lora_B.default"),
    (".lora_B.default.weight", "up", "lora_A/lora_B.default"),
    (".lora_linear_layer.down.weight", "down", "legacy"),
    (".lora_linear_layer.up.weight", "up", "legacy"),
    (".lora_down.weight", "down", "lora_down/lora_up"),
    (".lora_up.weight", "up", "lora_down/lora_up"),
    (".lora_mid.weight", "mid", "lora_down/lora_up"),
    (".lora_A.weight", "down", "lora_A/lora_B"),
    (".lora_B.weight", "up", "lora_A/lora_B"),
    (".lora_B.bias", "diff_b", "lora_A/lora_B"),
    ("_loras.down.weight", "down", "stand-in"),
    ("_loras.up.weight", "up", "stand-in"),
    ("_lora.down.weight", "down", "legacy"),
    ("_lora.up.weight", "up", "legacy"),
    (".lora.down.weight", "down", "legacy"),
    (".lora.up.weight", "up", "legacy"),
    (".lora_A", "down", "legacy"),
    (".lora_B", "up", "legacy"),
)
_PLAIN_SUFFIXES: tuple[tuple[str, Role], ...] = (
    (".dora_scale", "dora_scale"),
    (".alpha", "alpha"),
    (".diff_b", "diff_b"),
    (".diff_m", "diff_m"),
    (".diff", "diff"),
)
_SUFFIXES: tuple[tuple[str, Role, SuffixFamily | None], ...] = tuple(
    sorted([*_PAIR_SUFFIXES, *((s, r, None) for s, r in _PLAIN_SUFFIXES)], key=lambda t: -len(t[0]))
)
_LYCORIS = re.compile(r"\.(hada_(?:w[12]_[ab]|t[12])|lokr_(?:w[12](?:_[ab])?|t[12]))$")
"""LyCORIS LoHa/LoKr factor names (KohakuBlueleaf/LyCORIS ``lycoris/modules/loha.py``, ``lokr.py`` weight lists)."""


def lycoris_part(name: str) -> str | None:
    """The LyCORIS factor a key holds (``hada_w1_a``, ``lokr_w2_b`` …), else ``None``."""
    match = _LYCORIS.search(name)
    return match.group(1) if match is not None else None


def split_key(name: str) -> tuple[str, Role, SuffixFamily | None] | None:
    """Split a key into ``(module path, role, suffix family)`` by the longest known suffix (§5 step 2)."""
    lycoris = _LYCORIS.search(name)
    if lycoris is not None:
        return name[: lycoris.start()], "lycoris", "lycoris"
    for suffix, role, family in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], role, family
    return None


_UNMEASURED = re.compile(r"\.(?:oft_blocks|a1\.weight|w_norm|set_weight)$")
"""Keys that make ComfyUI's ``load_lora`` build a patch though this analysis measures nothing from them (ComfyUI
a8c44f9b): OFT and BOFT ``oft_blocks`` (``comfy/weight_adapter/oft.py:167-186``, ``boft.py:27-46``), GLoRA's
``a1.weight``, which brings ``a2``/``b1``/``b2`` (``glora.py:28-45``), a norm delta ``w_norm`` (with its ``b_norm``)
and a replacement weight ``set_weight`` (``comfy/lora.py:60-70, 84-88``)."""


def is_adapter_key(name: str) -> bool:
    """True when the key is an adapter's weight: one :func:`split_key` splits, or one ComfyUI loads as OFT, BOFT,
    GLoRA, a norm delta or a replacement weight (:data:`_UNMEASURED`). A file without one is no adapter at all
    (a full model, a VAE, an encoder); a file with one is, though its fit may be unknown."""
    return split_key(name) is not None or _UNMEASURED.search(name) is not None


_S = "[._]"
_N = r"([0-9]{1,3})"
"""A block index: Wan models have at most 40 blocks; a longer number names no Wan module (nor a huge range)."""
_LOCAL_ATTN = r"(self_attn|cross_attn)" + _S + r"(q|k|v|o|k_img|v_img|norm_q|norm_k|norm_k_img)"
_VOCABULARY: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (rf"blocks{_S}{_N}{_S}{_LOCAL_ATTN}", r"blocks.\1.\2.\3"),
        (rf"blocks{_S}{_N}{_S}ffn{_S}(0|2)", r"blocks.\1.ffn.\2"),
        (rf"blocks{_S}{_N}{_S}(norm3|modulation)", r"blocks.\1.\2"),
        (rf"vace_blocks{_S}{_N}{_S}(.+)", r"vace_blocks.\1.\2"),
        (rf"(text_embedding|time_embedding){_S}(0|2)", r"\1.\2"),
        (rf"time_projection{_S}1", "time_projection.1"),
        (rf"head{_S}(head|modulation)", r"head.\1"),
        (rf"img_emb{_S}proj{_S}(0|1|3|4)", r"img_emb.proj.\1"),
        (rf"img_emb{_S}emb_pos", "img_emb.emb_pos"),
        (r"(vace_patch_embedding|patch_embedding)", r"\1"),
    )
)
"""Closed vocabulary of original Wan module names; separators may be ``.`` or ``_`` (§5 step 4)."""

_MODULATION_OWNER = re.compile(rf"(?:blocks{_S}{_N}|head)")

_DIFFUSERS_BLOCK: dict[str, str] = {
    **{
        f"{new}.{d}": f"{old}.{o}"
        for new, old in (("attn1", "self_attn"), ("attn2", "cross_attn"))
        for d, o in (("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "o"))
    },
    **{
        f"{n}.norm_{x}": f"{o}.norm_{x}"
        for n, o in (("attn1", "self_attn"), ("attn2", "cross_attn"))
        for x in "qk"
    },
    "attn2.add_k_proj": "cross_attn.k_img",
    "attn2.add_v_proj": "cross_attn.v_img",
    "attn2.norm_added_k": "cross_attn.norm_k_img",
    "norm2": "norm3",
    "ffn.net.0.proj": "ffn.0",
    "ffn.net.2": "ffn.2",
    "scale_shift_table": "modulation",
}
"""diffusers block-local names → original names (diffusers ``norm2`` is the original ``norm3``)."""

_IMAGE_EMBEDDER = "condition_embedder.image_embedder."
_DIFFUSERS_TOP: dict[str, str] = {
    "patch_embedding": "patch_embedding",
    "condition_embedder.text_embedder.linear_1": "text_embedding.0",
    "condition_embedder.text_embedder.linear_2": "text_embedding.2",
    "condition_embedder.time_embedder.linear_1": "time_embedding.0",
    "condition_embedder.time_embedder.linear_2": "time_embedding.2",
    "condition_embedder.time_proj": "time_projection.1",
    "proj_out": "head.head",
    "scale_shift_table": "head.modulation",
    _IMAGE_EMBEDDER + "norm1": "img_emb.proj.0",
    _IMAGE_EMBEDDER + "ff.net.0.proj": "img_emb.proj.1",
    _IMAGE_EMBEDDER + "ff.net.2": "img_emb.proj.3",
    _IMAGE_EMBEDDER + "norm2": "img_emb.proj.4",
    _IMAGE_EMBEDDER + "pos_embed": "img_emb.emb_pos",
}
_HYBRID_BLOCK: dict[str, str] = {"self_attn.to_out.0": "self_attn.o", "cross_attn.to_out.0": "cross_attn.o"}
"""Original attention names with the diffusers output projection: ai-toolkit renames ``attn1``/``attn2`` and
``to_q``/``to_k``/``to_v`` in underscore keys but leaves ``to_out_0`` (ostris/ai-toolkit
``toolkit/models/wan21/wan_lora_convert.py``, ``convert_to_original``)."""


def _flat(name: str) -> str:
    """A module path with every separator as ``_``: dotted, underscored and mixed spellings compare equal."""
    return name.replace(".", "_")


_DIFFUSERS_BLOCK_FLAT = {_flat(k): v for k, v in {**_DIFFUSERS_BLOCK, **_HYBRID_BLOCK}.items()}
_DIFFUSERS_TOP_FLAT = {_flat(k): v for k, v in _DIFFUSERS_TOP.items()}
_DIFFUSERS_BLOCK_PATH = re.compile(rf"blocks{_S}{_N}{_S}(.+)")

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("model.diffusion_model.", "diffusion_model"),
    ("diffusion_model.", "diffusion_model"),
    ("lora_unet__", "videox-fun"),
    ("lora_unet_", "kohya"),
    ("transformer.", "transformer"),
    ("base_model.model.", "peft-other"),
    ("pipe.dit.", "peft-other"),
    ("lycoris_", "peft-other"),
    ("", "peft-other"),
)
"""Key prefixes and the format family they vote for (§4.2, §5 step 3); the bare prefix is tried last."""


def _original_name(path: str, *, modulation_owner: bool = False) -> str | None:
    """Canonical Wan name of an original-style path (dots, underscores or a mixture), else ``None``."""
    if modulation_owner:
        owner = _MODULATION_OWNER.fullmatch(path)
        if owner is None:
            return None
        return f"blocks.{owner.group(1)}.modulation" if owner.group(1) else "head.modulation"
    for pattern, template in _VOCABULARY:
        match = pattern.fullmatch(path)
        if match is not None:
            return match.expand(template)
    return None


def _diffusers_name(path: str) -> str | None:
    """Canonical Wan name of a diffusers ``WanTransformer3DModel`` path (dots, underscores or both), else ``None``.

    LyCORIS (``lycoris_blocks_0_attn1_to_q``), raw PEFT (``base_model.model.blocks.0.attn1.to_q``) and musubi-tuner's
    ``--target default`` conversion (``lora_unet_blocks_0_attn1_to_q``) keep diffusers names under other prefixes.
    """
    block = _DIFFUSERS_BLOCK_PATH.fullmatch(path)
    if block is not None:
        local = _DIFFUSERS_BLOCK_FLAT.get(_flat(block.group(2)))
        return f"blocks.{block.group(1)}.{local}" if local else None
    return _DIFFUSERS_TOP_FLAT.get(_flat(path))


def canonicalise(stem: str, *, modulation_owner: bool = False) -> tuple[str, str | None, bool]:
    """Return ``(format vote, canonical module, spelled with diffusers names)`` for a key stem.

    Unknown modules vote ``"unknown"``. Original Wan names are tried first, then diffusers names, except after
    ``transformer.`` (the diffusers prefix), where diffusers names come first.
    """
    for prefix, vote in _PREFIXES:
        if not stem.startswith(prefix):
            continue
        path = stem[len(prefix) :]
        diffusers = None if modulation_owner else _diffusers_name(path)
        if vote == "transformer":
            if diffusers is not None:
                return "diffusers", diffusers, True
            vote = "peft-other"
        module = _original_name(path, modulation_owner=modulation_owner)
        if module is not None:
            return vote, module, False
        if diffusers is not None:
            return vote, diffusers, True
        return "unknown", None, False
    return "unknown", None, False  # pragma: no cover - the bare prefix always matches


def key_prefix(name: str) -> str:
    """The format prefix a key starts with (``diffusion_model.``, ``lora_unet_``, ``lycoris_`` …; ``""`` if bare)."""
    return next((prefix for prefix, _vote in _PREFIXES if name.startswith(prefix)), "")


@dataclass(frozen=True)
class Key:
    """One header key after suffix split and canonicalisation.

    ``part`` names the LyCORIS factor (``hada_w1_a`` …) of a ``lycoris`` key; ``diffusers_named`` is true when the
    module was recognised by its diffusers name (``attn1.to_q``, ``ffn.net.0.proj`` …).
    """

    name: str
    vote: str
    module: str | None
    role: Role | None
    family: SuffixFamily | None
    spec: TensorSpec
    part: str | None = None
    diffusers_named: bool = False


def classify_key(name: str, spec: TensorSpec) -> Key:
    """Split and canonicalise one key; unmatched keys get ``module=None``."""
    split = split_key(name)
    if split is None:
        return Key(name, "unknown", None, None, None, spec)
    stem, role, family = split
    vote, module, diffusers = canonicalise(stem, modulation_owner=role == "diff_m")
    part = lycoris_part(name) if role == "lycoris" else None
    return Key(name, vote, module, "diff" if role == "diff_m" else role, family, spec, part, diffusers)
