"""The shell commands the pages print: `hf download`, and curl into the ComfyUI folder a file belongs in.

Second step of the site stage (after filters): every file name and address is shell-quoted, so a command
copied from a page does what it says whatever the Hub path holds; the download address comes from
:func:`generator.vocabulary.hub_download_url`. Pure functions of repo and path.
"""

from __future__ import annotations

import shlex

from generator.catalog.recipes import Recipe
from generator.site.filters import https, human_size
from generator.vocabulary import hub_download_url

COMFY_ROOT = "ComfyUI/models"
COMFY_FOLDERS = {"lora": "loras", "model": "diffusion_models"}
"""The ComfyUI folder (under COMFY_ROOT) of a LoRA and of a diffusion model."""


def hf_command(repo: str, path: str) -> str:
    """The `hf download REPO -- PATH` command line that fetches the file, shell-quoted.

    The `--` ends the options: a path the Hub allows may start with `-`, which `hf` would read as an option.
    """
    return f"hf download {shlex.quote(repo)} -- {shlex.quote(path)}"


def curl_command(folder: str, repo: str, path: str) -> str:
    """`curl -L -o ComfyUI/models/FOLDER/NAME URL`: the file lands in the folder under its own name."""
    name = path.rsplit("/", 1)[-1]
    target = shlex.quote(f"{COMFY_ROOT}/{folder}/{name}")
    return f"curl -L -o {target} {shlex.quote(https(hub_download_url(repo, path)))}"


def comfy_command(repo: str, path: str, folder: str = "lora", size: int | None = None) -> str:
    """The curl command for a LoRA (`folder` "lora") or a diffusion model ("model"), with its size, when
    known, as a comment."""
    command = curl_command(COMFY_FOLDERS[folder], repo, path)
    return command if size is None else f"{command}  # {human_size(size)}"


def recipe_commands(recipe: Recipe) -> list[str]:
    """The lines that download every file of a recipe into its ComfyUI folder: one mkdir, one curl each."""
    folders = sorted({shlex.quote(f"{COMFY_ROOT}/{file.folder}") for file in recipe.files})
    return [
        f"mkdir -p {' '.join(folders)}",
        *(curl_command(file.folder, file.repo, file.path) for file in recipe.files),
    ]
