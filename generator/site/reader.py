"""What the reader pages add to the render context (issue 13): fits per base model, ComfyUI downloads,
sibling experts, the models' LoRAs and combinations.

:class:`ReaderMixin` is a base of :class:`generator.site.render.Context`; it uses the context's catalog and
its `fact`, `header`, `intended_use` and `loras_of`. Pure, like the rest of rendering.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import Markup

from generator.catalog import models as m
from generator.site import fit as fitting
from generator.site.fit import Fit
from generator.vocabulary import HUB_URL

if TYPE_CHECKING:
    from generator.catalog.snapshot import LinkFact
    from generator.catalog.validate import Catalog
    from generator.lora.facts import HeaderFacts

COMFY_FOLDERS = {"lora": "ComfyUI/models/loras", "model": "ComfyUI/models/diffusion_models"}
_RESOLVE = HUB_URL + "/{repo}/resolve/main/{path}?download=true"


def comfy_command(repo: str, path: str, folder: str = "lora", size: int | None = None) -> str:
    """`curl -L -o ComfyUI/models/loras/NAME URL`: the file lands in ComfyUI's folder under its own name.

    Shell-quoted; the size, when known, follows as a comment. `folder` is "lora" or "model"
    (ComfyUI/models/diffusion_models).
    """
    from generator.site.render import https, human_size  # render imports this module first

    name = path.rsplit("/", 1)[-1]
    target = shlex.quote(f"{COMFY_FOLDERS[folder]}/{name}")
    command = f"curl -L -o {target} {shlex.quote(https(_RESOLVE.format(repo=repo, path=quote(path))))}"
    return command if size is None else f"{command}  # {human_size(size)}"


def fenced_lines(lines: list[str], language: str = "sh") -> Markup:
    """A fenced Markdown block of several one-line commands, its fence longer than any backtick run in them."""
    if any("\n" in line or "\r" in line for line in lines):
        raise ValueError("each line of a fenced block must be a single line")
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence} {language}\n" + "\n".join(lines) + f"\n{fence}")  # noqa: S704 - literal code


_SIBLING_NOISE = re.compile(r"(?<![a-z0-9])(high|low)(?:[_-]?noise)?(?![a-z0-9])", re.IGNORECASE)
_SIBLING_RANK = re.compile(
    r"(?<![a-z0-9])(?:rank[_-]?\d+|r\d+|fp8\w*|fp16|bf16|fp32)(?![a-z0-9])", re.IGNORECASE
)


def _sibling_key(lora: m.Lora) -> tuple[str, ...]:
    """What two experts of one release share: family, generation, task, folder, name without expert/rank/precision."""
    folder, _, name = lora.file.path.rpartition("/")
    stem = _SIBLING_RANK.sub("", _SIBLING_NOISE.sub("", name.removesuffix(".safetensors")))
    return (lora.family, lora.generation, lora.task, lora.file.repo, folder, stem.casefold())


@dataclass(frozen=True)
class Unfetched:
    """A model a combination names without naming one file: a catalogued model without a file download,
    or a model only described ('some wan 2.2')."""

    expert: str
    model: m.BaseModelEntry | None = None
    note: str | None = None


class ReaderMixin:
    """Context methods of the reader pages (see the module's docstring)."""

    catalog: Catalog

    if TYPE_CHECKING:

        def fact(self, link: m.HfLink | str) -> LinkFact | None: ...
        def header(self, lora: m.Lora) -> HeaderFacts | None: ...
        def intended_use(self, lora: m.Lora, model: m.BaseModelEntry) -> str: ...
        def loras_of(self, combo: m.Combination) -> list[m.Lora]: ...

    def verified_counts(self) -> tuple[int, int, int]:
        """(LoRA files checked on the Hub, LoRA headers inspected, LoRAs): what the home page says is verified."""
        loras = self.catalog.loras
        checked = sum(1 for lora in loras if self.fact(lora.file.link) is not None)
        return checked, sum(1 for lora in loras if self.header(lora) is not None), len(loras)

    def fit(self, lora: m.Lora, model: m.BaseModelEntry) -> Fit:
        """Fit of the LoRA on the model: *verified* by the header once inspected, else *claimed* by the file name."""
        return fitting.fit(lora, model, self.header(lora))

    def fits(self, lora: m.Lora) -> list[Fit]:
        """The LoRA's fit on every model of the catalog, in catalog order."""
        return [self.fit(lora, model) for model in self.catalog.models]

    def fit_options(self) -> list[m.BaseModelEntry]:
        """The base models a reader can filter LoRAs by: every model but distilled checkpoints."""
        return [model for model in self.catalog.models if model.kind == "base"]

    def row_fits(self, lora: m.Lora) -> list[Fit]:
        """The LoRA's fit on each base model of fit_options() (for the catalog rows and catalog.json)."""
        return [self.fit(lora, model) for model in self.fit_options()]

    def made_for(self, lora: m.Lora) -> list[str]:
        """Ids of the base models the LoRA was made for (claimed by its entry: generation, task, expert)."""
        return [
            model.id
            for model in self.fit_options()
            if self.intended_use(lora, model) == "made for this model"
        ]

    def siblings(self, lora: m.Lora) -> list[m.Lora]:
        """The other noise expert's LoRA of the same release: same family, generation, task and folder,
        the opposite expert, and the same file name once the expert, rank and precision words are left out."""
        key = _sibling_key(lora)
        return [
            other
            for other in self.catalog.loras
            if other.id != lora.id
            and {other.expert, lora.expert} == {"high", "low"}
            and _sibling_key(other) == key
        ]

    def combo_downloads(self, combo: m.Combination) -> tuple[list[str], list[Unfetched]]:
        """(commands, others) for a combination: one curl command per file it names exactly (its LoRAs,
        its models' file downloads), and what it names without a single file, shown as such, never guessed."""
        commands: list[str] = []
        others: list[Unfetched] = []
        for lora in self.loras_of(combo):
            command = self.lora_command(lora)
            if command not in commands:
                commands.append(command)
        for expert, setup in (("high", combo.high), ("low", combo.low)):
            if setup is None:
                continue
            if setup.model is None:
                others.append(Unfetched(expert, note=setup.model_note or "not named"))
                continue
            model = self.catalog.model(setup.model)
            files = [
                d.link for d in model.downloads if isinstance(d.link, m.HfLink) and d.link.kind == "file"
            ]
            commands += [c for c in (self.model_command(link) for link in files) if c not in commands]
            if not files:
                others.append(Unfetched(expert, model=model))
        for download in combo.downloads:
            link = download.link
            if isinstance(link, m.HfLink) and link.kind == "file" and link.path is not None:
                command = comfy_command(link.repo, link.path, "lora", self._size(link))
                if command not in commands:
                    commands.append(command)
            # a folder is listed with the combination's downloads: the reader picks the file
        return commands, others

    def lora_command(self, lora: m.Lora) -> str:
        """The curl command that puts the LoRA into ComfyUI/models/loras/, with its size when known."""
        return comfy_command(lora.file.repo, lora.file.path, "lora", self._size(lora.file.link))

    def model_command(self, link: m.HfLink) -> str:
        """The curl command that puts a model file into ComfyUI/models/diffusion_models/."""
        assert link.path is not None
        return comfy_command(link.repo, link.path, "model", self._size(link))

    def model_files(self, model: m.BaseModelEntry) -> list[str]:
        """The curl commands for the model's downloads that name one file (folders cannot be fetched by name)."""
        return [
            self.model_command(d.link)
            for d in model.downloads
            if isinstance(d.link, m.HfLink) and d.link.kind == "file"
        ]

    def loras_made_for(self, model: m.BaseModelEntry) -> list[m.Lora]:
        """The LoRAs whose entry says they were made for this model (generation, task, expert, size)."""
        return [
            lora for lora in self.catalog.loras if self.intended_use(lora, model) == "made for this model"
        ]

    def combos_with_model(self, model: m.BaseModelEntry) -> list[m.Combination]:
        """The combinations that run this model on one of their experts."""
        return [
            combo
            for combo in self.catalog.combinations
            if any(setup is not None and setup.model == model.id for setup in (combo.high, combo.low))
        ]

    def _size(self, link: m.HfLink) -> int | None:
        fact = self.fact(link)
        return fact.size if fact else None
