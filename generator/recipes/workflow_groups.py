"""Which nodes a template's group holds, the way ComfyUI's canvas decides it.

Where a template ships the LoRA path as a bypassed group (FLF2V, Fun camera and control), its note says
to enable that group and bypass the other one. ComfyUI's frontend counts a node as inside a group when the
centre of the node's bounding box (the body plus its 30-pixel title bar) lies inside the group's box
(ComfyUI_frontend, ``LGraphGroup.recomputeInsideNodes`` and ``useGraphHierarchy``: ``containsCentre``);
nested groups (a "Step 1 - Load models" inside the path's group) are inside it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.recipes.graph import Json

TITLE_HEIGHT = 30.0
"""Height of a node's title bar above its position (LiteGraph's NODE_TITLE_HEIGHT)."""


@dataclass(frozen=True)
class Group:
    """A top-level group: its title and box (x, y, width, height)."""

    title: str
    box: tuple[float, float, float, float]

    def holds(self, node: Json) -> bool:
        """Whether the centre of the node's bounding box is inside the group's box."""
        centre = _centre(node)
        if centre is None:
            return False
        x, y, width, height = self.box
        return x <= centre[0] <= x + width and y <= centre[1] <= y + height

    @property
    def area(self) -> float:
        """The box's area (the largest group that holds a path is the path's own)."""
        return self.box[2] * self.box[3]


def groups(template: Json) -> list[Group]:
    """The template's top-level groups that have a text title and a box of four numbers."""
    found = []
    for item in template.get("groups") or []:
        box = item.get("bounding") if isinstance(item, dict) else None
        title = item.get("title") if isinstance(item, dict) else None
        if isinstance(title, str) and isinstance(box, list) and len(box) == 4 and all(map(_real, box)):
            found.append(Group(title.strip(), (box[0], box[1], box[2], box[3])))
    return found


def largest_holding(template: Json, nodes: list[Json], title: str | None = None) -> Group | None:
    """The largest group that holds every one of the nodes (with that title, when one is given)."""
    fitting = [
        group
        for group in groups(template)
        if (title is None or group.title == title) and nodes and all(map(group.holds, nodes))
    ]
    return max(fitting, key=lambda group: group.area, default=None)


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    if isinstance(value, list) and len(value) >= 2 and _real(value[0]) and _real(value[1]):
        return float(value[0]), float(value[1])
    return None


def _centre(node: Json) -> tuple[float, float] | None:
    pos, size = _pair(node.get("pos")), _pair(node.get("size"))
    if pos is None or size is None:
        return None
    return pos[0] + size[0] / 2, pos[1] - TITLE_HEIGHT + (size[1] + TITLE_HEIGHT) / 2


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
