"""Every file a template's setup downloads, with its ComfyUI folder and where it comes from.

A file belongs to the setup when a node of the template loads it (a widget value naming a model file,
also on subgraph instances). Where to download it is read first from the loader's own declaration,
``properties.models`` (name, URL, folder), then from the links of the template's notes, which write
both ``…/resolve/…`` and ``…/blob/…`` addresses.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from generator.catalog.recipes import ComfyFolder
from generator.recipes.graph import BYPASSED, MUTED, Json, Workflow
from generator.vocabulary import HUB_URL

Data = dict[str, Any]
FILE_LINK = re.compile(
    re.escape(HUB_URL) + r"/([\w.\-]+/[\w.\-]+)/(?:resolve|blob)/[\w.\-]+/([^\s)?#\]\"']+)"
)
LOADER_FOLDERS = {
    "UNETLoader": "diffusion_models",
    "LoraLoaderModelOnly": "loras",
    "LoraLoader": "loras",
    "VAELoader": "vae",
    "CLIPLoader": "text_encoders",
    "CLIPVisionLoader": "clip_vision",
    "AudioEncoderLoader": "audio_encoders",
    "ModelPatchLoader": "model_patches",
    "CheckpointLoaderSimple": "checkpoints",
}
FOLDERS: tuple[str, ...] = get_args(ComfyFolder)
_MODEL_SUFFIXES = (".safetensors", ".gguf", ".pth", ".ckpt", ".pt", ".bin")


def template_files(workflow: Workflow, on_paths: set[str] | None = None) -> list[Data]:
    """The files the template's nodes load, each with its folder, repo and path, in folder order.

    With `on_paths` (the model and LoRA files of the recipe's stages), only the files of loaders that
    are on, and those of the recipe's paths (a bypassed LoRA group's), count: a bypassed alternative
    (the 1.3B loaders beside a 14B setup) is not part of the setup.
    """
    used = _used_files(workflow, on_paths)
    found: dict[str, Data] = {}
    for _, node in workflow.nodes():
        for entry in (node.get("properties") or {}).get("models") or []:
            _add(found, used, str(entry.get("url", "")), entry.get("directory"))
    for _, node in workflow.nodes():
        if "Note" in node["type"]:
            for text in _widgets(node):
                for match in FILE_LINK.finditer(str(text)):
                    _add(found, used, match.group(0), None)
    return sorted(found.values(), key=lambda f: (FOLDERS.index(f["folder"]), f["path"]))


def _add(found: dict[str, Data], used: dict[str, str | None], url: str, directory: Any) -> None:
    """Add the file a URL names, when a node loads it and it is not listed yet."""
    match = FILE_LINK.match(url)
    if match is None:
        return
    repo, path = match.groups()
    name = path.rsplit("/", 1)[-1]
    folder = directory if directory in FOLDERS else _folder(path, used.get(name))
    if name in used and folder and name not in found:
        found[name] = {"folder": folder, "repo": repo, "path": path}


def _widgets(node: Json) -> list[Any]:
    values = node.get("widgets_values")
    return values if isinstance(values, list) else []


def _used_files(workflow: Workflow, on_paths: set[str] | None) -> dict[str, str | None]:
    """File names the nodes load (widget values, also on subgraph instances) -> the loader's folder."""
    used: dict[str, str | None] = {}
    for _, node in workflow.nodes():
        for value in _widgets(node):
            if not isinstance(value, str) or not value.endswith(_MODEL_SUFFIXES):
                continue
            if on_paths is None or node.get("mode", 0) not in (BYPASSED, MUTED) or value in on_paths:
                used.setdefault(value, LOADER_FOLDERS.get(node["type"]))
    return used


def _folder(path: str, loader_folder: str | None) -> str | None:
    parent = path.rsplit("/", 2)[-2] if path.count("/") >= 1 else ""
    return parent if parent in FOLDERS else loader_folder
