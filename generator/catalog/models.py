"""The catalog's data model: one pydantic class per kind of YAML file, strict and immutable.

Contributors write intent (which file, which model, what they found); facts such as sizes, hashes and
link status come from the Hub check and live in the snapshot, never here.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Literal, Self
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from generator.catalog.fields import (
    HUB_NAME_MAX as HUB_NAME_MAX,
)
from generator.catalog.fields import (
    MAX_RANK as MAX_RANK,
)
from generator.catalog.fields import (
    SLUG_PATTERN as SLUG_PATTERN,
)
from generator.catalog.fields import (
    Generation as Generation,
)
from generator.catalog.fields import (
    HttpsUrl as HttpsUrl,
)
from generator.catalog.fields import (
    HubId as HubId,
)
from generator.catalog.fields import (
    Line as Line,
)
from generator.catalog.fields import (
    Prose as Prose,
)
from generator.catalog.fields import (
    Recommendation as Recommendation,
)
from generator.catalog.fields import (
    RepoId as RepoId,
)
from generator.catalog.fields import (
    RepoPath as RepoPath,
)
from generator.catalog.fields import (
    Slug as Slug,
)
from generator.catalog.fields import (
    Source as Source,
)
from generator.catalog.fields import (
    check_hub_id as check_hub_id,
)
from generator.catalog.fields import (
    check_prose as check_prose,
)
from generator.catalog.fields import (
    check_repo_id as check_repo_id,
)
from generator.vocabulary import HUB_URL, Expert, Precision, Task
from generator.vocabulary import ArchitectureId as Architecture


class Strict(BaseModel):
    """Base of every data class: unknown keys are errors, objects are immutable, numbers finite, no bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bytes(cls, value: object) -> object:
        """Refuse bytes, which pydantic would turn into text (or a number, a date) past every check on text."""
        items = value if isinstance(value, list | tuple) else (value,)
        if any(isinstance(item, bytes | bytearray | memoryview) for item in items):
            raise ValueError("binary data (bytes) is not allowed; write text")
        return value


class HfLink(Strict):
    """A place on the Hugging Face Hub; the URL is derived, never typed."""

    kind: Literal["file", "folder", "repo", "user"] = Field(
        description="file or folder inside a repo, a whole repo, or a user/organisation page"
    )
    repo: HubId
    path: RepoPath | None = Field(default=None, description="path inside the repo (file and folder only)")

    @model_validator(mode="after")
    def _check(self) -> Self:
        """Check that the fields fit the kind."""
        needs_path = self.kind in ("file", "folder")
        if needs_path and self.path is None:
            raise ValueError(f"an HF {self.kind} link needs a path")
        if not needs_path and self.path is not None:
            raise ValueError(f"an HF {self.kind} link takes no path")
        if (self.kind == "user") == ("/" in self.repo):
            raise ValueError("a user link names a user or org; other kinds name an 'owner/name' repo")
        return self

    @property
    def url(self) -> str:
        """The https address of this place on huggingface.co."""
        if self.kind == "user":
            return f"{HUB_URL}/{self.repo}"
        if self.kind == "repo":
            return f"{HUB_URL}/{self.repo}"
        assert self.path is not None
        verb = "blob" if self.kind == "file" else "tree"
        return f"{HUB_URL}/{self.repo}/{verb}/main/{quote(self.path)}"

    @property
    def label(self) -> str:
        """A short text naming the place: 'owner/name/path'."""
        return f"{self.repo}/{self.path}" if self.path else self.repo


def _link_tag(value: object) -> str:
    return "url" if isinstance(value, str) else "hf"


Link = Annotated[
    Annotated[HfLink, Tag("hf")] | Annotated[HttpsUrl, Tag("url")],
    Discriminator(_link_tag),
    Field(description="an HF place {kind, repo, path?} or an https:// URL"),
]


def link_url(link: HfLink | str) -> str:
    """The https address of any link."""
    return link.url if isinstance(link, HfLink) else link


class LoraFile(Strict):
    """Where the LoRA's .safetensors file lives on the Hub."""

    repo: RepoId
    path: RepoPath = Field(description="path of the .safetensors file inside the repo")

    @model_validator(mode="after")
    def _check(self) -> Self:
        """A LoRA file is a safetensors file."""
        if not self.path.endswith(".safetensors"):
            raise ValueError("path must end in .safetensors")
        return self

    @cached_property
    def link(self) -> HfLink:
        """The file as an HF link."""
        return HfLink(kind="file", repo=self.repo, path=self.path)

    @property
    def filename(self) -> str:
        """The last path segment."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        """The file name without .safetensors, as the seed wrote it."""
        return self.filename.removesuffix(".safetensors")


class Claimed(Strict):
    """Rank and precision as the file name claims them (the header check verifies them)."""

    rank: Annotated[int, Field(ge=1, le=MAX_RANK)] | Literal["adaptive"] | None = Field(
        default=None, description="e.g. 64, or 'adaptive'"
    )
    average_rank: int | None = Field(
        default=None, ge=1, le=MAX_RANK, description="for adaptive LoRAs whose name gives a mean"
    )
    precision: Precision | None = None


class Lora(Strict):
    """One LoRA of the catalog (data/loras/<id>.yaml): one file, published in one or more places.

    ``file`` is where the catalog downloads it from; ``mirrors`` are other places that publish the same file
    (a repackaging, a copy). Whether a mirror holds the same bytes is a fact the Hub check finds (their
    sha256), never something typed: until both hashes are known the mirror is "not yet checked".
    """

    id: Slug
    file: LoraFile
    mirrors: tuple[LoraFile, ...] = Field(
        default=(),
        description="other places publishing the same file (e.g. a repackaged copy); the Hub check compares "
        "their sha256 with the file's",
    )
    release: Slug | None = Field(
        default=None, description="id of the release in data/releases/ this file belongs to"
    )
    generation: Generation = Field(description="Wan generation the LoRA was made for")
    task: Task
    expert: Expert | None = Field(default=None, description="noise expert, when the name says it")
    family: Line = Field(
        description="distillation or style family: Lightning, lightx2v, rCM, FastWan, FusionX …"
    )
    claimed: Claimed = Claimed()
    recommendation: Recommendation = Field(
        default="listed", description="the catalog's reading of the comment: shown as such, never as a quote"
    )
    comment: Prose | None = Field(
        default=None, description="the words of whoever `source` names, kept exactly as written"
    )
    new: bool = Field(
        default=False,
        description="true only when the source itself calls the LoRA new (never computed from dates)",
    )
    source: Source = "contributor"
    added: dt.date = Field(description="date the entry was added to the catalog")

    @model_validator(mode="after")
    def _check(self) -> Self:
        """A mirror is another place than the file and than every other mirror."""
        places = [(self.file.repo, self.file.path), *((f.repo, f.path) for f in self.mirrors)]
        if len(set(places)) != len(places):
            raise ValueError("a mirror repeats the file or another mirror")
        return self

    @property
    def files(self) -> tuple[LoraFile, ...]:
        """Every place the LoRA is published: the file first, then its mirrors."""
        return (self.file, *self.mirrors)


class Release(Strict):
    """A release (data/releases/<id>.yaml): one version of a publisher's named LoRA set, shared by its files.

    The files of a release (a high- and a low-noise LoRA, the copies several repos publish of them) name it
    by id; the versions of one release share ``publisher`` and ``name``, so a setting cited for one version
    can be shown on another version's page, labelled with the version it was cited for.
    """

    id: Slug
    publisher: Line = Field(description="who trained and published it, e.g. lightx2v")
    name: Line = Field(description="the release's name as its publisher gives it, e.g. Wan2.2-Lightning")
    version: Line = Field(description="the version as its publisher or its files name it, e.g. V1.1, 250928")
    source: Link | None = Field(
        default=None, description="the publisher's own page or folder of this version"
    )
    description: Prose | None = None
    added: dt.date

    @property
    def title(self) -> str:
        """'lightx2v Wan2.2-Lightning V1.1'."""
        return f"{self.publisher} {self.name} {self.version}"


class ModelDownload(Strict):
    """One download location of a model: a single file ComfyUI's loader takes, or a folder or repository."""

    precision: Precision | Literal["bf16/fp16", "fp8_scaled", "int8_convrot"] = Field(
        description="as the file name says it: fp8_scaled and int8_convrot are ComfyUI's repackaged formats"
    )
    link: Link


class BaseModelEntry(Strict):
    """A base model or checkpoint (data/models/<id>.yaml)."""

    id: Slug
    name: Line
    generation: Generation
    task: Task
    expert: Expert | None = None
    architecture: Architecture | None = Field(
        default=None,
        description="tensor layout, for the compatibility matrix; required but for a variant whose layout "
        "the catalog does not know",
    )
    kind: Literal["base", "distilled", "variant"] = Field(
        default="base",
        description="'base' for a model LoRAs are made for; 'distilled' for a checkpoint derived from one "
        "(e.g. a 4-step model), never offered as a base model to filter LoRAs by; 'variant' for a model of its "
        "own built on a Wan base model (SCAIL-2, Fun …): LoRAs made for it are listed on its page",
    )
    description: Prose | None = None
    source: Link | None = Field(default=None, description="the official repo or page of the model")
    downloads: tuple[ModelDownload, ...] = Field(
        default=(),
        description="single files ComfyUI's loader takes first (each precision), then folders",
    )
    workflow: Link | None = Field(
        default=None, description="the publisher's own ComfyUI workflow for this model (a .json file)"
    )
    added: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        """Only a variant may leave its tensor layout unknown."""
        if self.architecture is None and self.kind != "variant":
            raise ValueError("missing required field 'architecture' (only a variant may leave it out)")
        return self


class LoraUse(Strict):
    """A LoRA applied on one expert, with its strength when known."""

    lora: Slug = Field(description="id of a LoRA in data/loras/")
    strength: float | None = Field(default=None, ge=-10, le=10)


class ExpertSetup(Strict):
    """What runs on one noise expert of a combination."""

    model: Slug | None = Field(
        default=None, description="id of a base model in data/models/; omit if unknown"
    )
    model_note: Line | None = Field(
        default=None, description="free text when the model is vague ('some Wan 2.2')"
    )
    loras: tuple[LoraUse, ...] | None = Field(
        default=None, description="LoRAs on this expert; [] means none, omitted means unknown"
    )


class ComboDownload(Strict):
    """A download location given with a combination."""

    expert: Expert | None = None
    precision: Literal["fp8_e4m3", "bf16/fp16"]
    link: Link


class Combination(Strict):
    """An 'allegedly good' LoRA/model combination (data/combinations/<id>.yaml)."""

    id: Slug
    title: Line
    high: ExpertSetup | None = None
    low: ExpertSetup | None = None
    notes: Prose | None = Field(default=None, description="the words of `source`, kept as written")
    downloads: tuple[ComboDownload, ...] = ()
    source: Source = "contributor"
    added: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        """A combination says something about at least one expert."""
        if self.high is None and self.low is None:
            raise ValueError("a combination needs 'high', 'low' or both")
        return self


class Trivia(Strict):
    """data/notes/trivia.yaml."""

    title: Line
    items: tuple[Prose, ...] = Field(min_length=1)


class Quote(Strict):
    """A quotation with its author."""

    text: Prose
    author: Line
    source: Link | None = None


class Point(Strict):
    """One advantage or drawback."""

    kind: Literal["pro", "con"]
    text: Prose


class Approach(Strict):
    """One way of applying LoRAs, with its pros and cons."""

    name: Line
    qualifier: Line | None = None
    points: tuple[Point, ...] = Field(min_length=1)

    @property
    def pros(self) -> tuple[Point, ...]:
        """The advantages."""
        return tuple(p for p in self.points if p.kind == "pro")

    @property
    def cons(self) -> tuple[Point, ...]:
        """The drawbacks."""
        return tuple(p for p in self.points if p.kind == "con")


class MergingNotes(Strict):
    """data/notes/merging.yaml: merged vs unmerged LoRAs."""

    title: Line
    quote: Quote
    approaches: tuple[Approach, ...] = Field(min_length=1)


class NamedLink(Strict):
    """A link with the text shown for it."""

    label: Line
    link: Link


class RcmNote(Strict):
    """data/notes/rcm.yaml."""

    title: Line
    summary: Prose
    links: tuple[NamedLink, ...] = ()
    loras: tuple[Slug, ...] = Field(default=(), description="ids of the extracted LoRAs in data/loras/")


class SpecialUse(Strict):
    """A special-use resource (data/special-use/<id>.yaml)."""

    id: Slug
    purpose: Line
    label: Line
    link: Link
    added: dt.date


class Site(Strict):
    """data/site.yaml: texts of the site that are not entries."""

    title: Line
    tagline: Line
    combinations_intro: tuple[Prose, ...] = ()
    new_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="entries added this many days before the catalog's latest change are 'recently added' "
        "(entries of the first day, the seed's import, never are)",
    )


class Dismissal(Strict):
    """A file the Hub check proposed that the maintainers chose not to catalogue, and why."""

    repo: RepoId
    path: RepoPath = Field(
        description="path of the .safetensors file inside the repo, as the check listed it"
    )
    reason: Line = Field(description="why it is not catalogued: 'a VAE, not a LoRA', 'a duplicate of …'")
    dismissed: dt.date = Field(description="the date it was dismissed")

    @model_validator(mode="after")
    def _check(self) -> Self:
        """Only .safetensors files are ever proposed."""
        if not self.path.endswith(".safetensors"):
            raise ValueError("path must end in .safetensors: only those files are proposed")
        return self


class Dismissals(Strict):
    """data/dismissed.yaml: candidates of the Hub check that are not to be proposed again."""

    files: tuple[Dismissal, ...] = Field(default=(), description="one entry per dismissed file")
