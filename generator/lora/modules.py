"""Keys grouped by canonical module, and the generic names and families of modules."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.lora.architectures import is_image_branch, split_block
from generator.lora.facts import Role
from generator.lora.keys import Key
from generator.lora.parse import TensorSpec


@dataclass
class Module:
    """All roles seen for one canonical module; LyCORIS factors by name in ``lycoris``."""

    name: str
    roles: dict[Role, TensorSpec] = field(default_factory=dict)
    lycoris: dict[str, tuple[int, ...]] = field(default_factory=dict)
    keys: int = 0

    def get(self, role: Role) -> tuple[int, ...] | None:
        spec = self.roles.get(role)
        return spec.shape if spec is not None else None

    @property
    def rank(self) -> int | None:
        """``down.shape[0]`` for a complete pair, else ``None``."""
        down, up = self.get("down"), self.get("up")
        if down is None or up is None or not down:
            return None
        return down[0]

    @property
    def out_features(self) -> int | None:
        for shape in (self.get("up"), self.get("diff"), self.get("diff_b")):
            if shape:
                return shape[0]
        return lycoris_shape(self.lycoris)[0]

    @property
    def in_features(self) -> int | None:
        down, diff = self.get("down"), self.get("diff")
        if down is not None and len(down) >= 2:
            return math.prod(down[1:])
        if diff is not None and len(diff) >= 2:
            return math.prod(diff[1:])
        return lycoris_shape(self.lycoris)[1]


_Shape = tuple[int, ...]
_Dims = tuple[int | None, int | None]


def lycoris_shape(parts: dict[str, _Shape]) -> _Dims:
    """``(out, in)`` of the weight a LyCORIS LoHa or LoKr module patches, each ``None`` when not derivable."""
    if any(name.startswith("hada_") for name in parts):
        return _loha_shape(parts)
    if any(name.startswith("lokr_") for name in parts):
        return _lokr_shape(parts)
    return None, None


def _low_rank(a: _Shape | None, b: _Shape | None, tucker: _Shape | None) -> _Dims:
    """Rows and columns of ``a @ b`` (``a`` = ``[rows, r]``, ``b`` = ``[r, cols…]``), or of the Tucker form.

    With a Tucker core ``t`` = ``[r, r, *kernel]`` both factors are ``[r, rows]`` and ``[r, cols]`` and the kernel
    multiplies the columns (LyCORIS ``loha.py``/``lokr.py`` ``use_tucker``).
    """
    if tucker is not None:
        rows = a[1] if a is not None and len(a) == 2 else None
        cols = b[1] * math.prod(tucker[2:]) if b is not None and len(b) == 2 and len(tucker) >= 2 else None
        return rows, cols
    rows = a[0] if a is not None and len(a) == 2 else None
    cols = math.prod(b[1:]) if b is not None and len(b) >= 2 else None
    return rows, cols


def _loha_shape(parts: dict[str, _Shape]) -> _Dims:
    """LoHa ``(w1_a @ w1_b) ⊙ (w2_a @ w2_b)``: ``hada_w1_a`` is ``[out, r]``, ``hada_w1_b`` ``[r, in]``; w2 alike."""
    first = _low_rank(parts.get("hada_w1_a"), parts.get("hada_w1_b"), parts.get("hada_t1"))
    second = _low_rank(parts.get("hada_w2_a"), parts.get("hada_w2_b"), parts.get("hada_t2"))
    out = first[0] if first[0] is not None else second[0]
    return out, first[1] if first[1] is not None else second[1]


def _factor(parts: dict[str, _Shape], name: str, tucker: _Shape | None) -> _Dims:
    """Rows and columns of one Kronecker factor: a full ``lokr_wN`` or its ``_a``/``_b`` halves."""
    full = parts.get(name)
    if full is not None:
        return (full[0], math.prod(full[1:])) if len(full) >= 2 else (None, None)
    return _low_rank(parts.get(name + "_a"), parts.get(name + "_b"), tucker)


def _lokr_shape(parts: dict[str, _Shape]) -> _Dims:
    """LoKr ``kron(w1, w2)``: out = rows(w1)·rows(w2), in = cols(w1)·cols(w2) (LyCORIS ``lokr.py``)."""
    w1 = _factor(parts, "lokr_w1", parts.get("lokr_t1"))
    w2 = _factor(parts, "lokr_w2", parts.get("lokr_t2"))
    out = w1[0] * w2[0] if w1[0] is not None and w2[0] is not None else None
    inp = w1[1] * w2[1] if w1[1] is not None and w2[1] is not None else None
    return out, inp


def group_modules(keys: Iterable[Key]) -> dict[str, Module]:
    """Group recognised keys by canonical module, sorted by module name."""
    modules: dict[str, Module] = {}
    for key in keys:
        if key.module is None or key.role is None:
            continue
        module = modules.setdefault(key.module, Module(key.module))
        if key.role == "lycoris" and key.part is not None:
            module.lycoris[key.part] = key.spec.shape
        else:
            module.roles[key.role] = key.spec
        module.keys += 1
    return {name: modules[name] for name in sorted(modules)}


def generic_name(module: str) -> str:
    """``blocks.7.ffn.0`` → ``blocks.*.ffn.0`` (VACE blocks likewise); top-level names are unchanged."""
    return re.sub(r"^(vace_blocks|blocks)\.\d+\.", r"\1.*.", module)


def module_family(module: str) -> str:
    """Family of a canonical module for coverage reports (``self_attn``, ``ffn``, ``norms``, ``head`` …)."""
    if module.startswith("vace"):
        return "vace"
    if is_image_branch(module):
        return "img_emb" if module.startswith("img_emb.") else "cross_attn_img"
    _index, local = split_block(module)
    if local in {"self_attn.norm_q", "self_attn.norm_k", "cross_attn.norm_q", "cross_attn.norm_k", "norm3"}:
        return "norms"
    if local.endswith("modulation"):
        return "modulation"
    return local.split(".")[0]
