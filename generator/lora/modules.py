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
    """All roles seen for one canonical module."""

    name: str
    roles: dict[Role, TensorSpec] = field(default_factory=dict)
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
        return None

    @property
    def in_features(self) -> int | None:
        down, diff = self.get("down"), self.get("diff")
        if down is not None and len(down) >= 2:
            return math.prod(down[1:])
        if diff is not None and len(diff) >= 2:
            return math.prod(diff[1:])
        return None


def group_modules(keys: Iterable[Key]) -> dict[str, Module]:
    """Group recognised keys by canonical module, sorted by module name."""
    modules: dict[str, Module] = {}
    for key in keys:
        if key.module is None or key.role is None:
            continue
        module = modules.setdefault(key.module, Module(key.module))
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
