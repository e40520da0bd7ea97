"""The catalog's data model: one pydantic class per kind of YAML file, strict and immutable.

Contributors write intent (which file, which model, what they found); facts such as sizes, hashes and
link status come from the Hub check and live in the snapshot, never here.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated, Literal, Self
from urllib.parse import quote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from generator import vocabulary
from generator.vocabulary import HUB_URL, Expert, Precision, Task
from generator.vocabulary import ArchitectureId as Architecture

SLUG_PATTERN = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"
Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=100),
    Field(description="lower-case id: letters, digits, '-' and '.', e.g. wan22-t2v-high-lightning"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
RepoId = Annotated[
    str,
    StringConstraints(pattern=r"^[\w.\-]+/[\w.\-]+$", max_length=96),
    AfterValidator(lambda v: _check_repo_id(v)),
    Field(description="Hugging Face repo id 'owner/name'"),
]
HubName = Annotated[str, StringConstraints(pattern=r"^[\w.\-]+$", max_length=96)]
RepoPath = Annotated[
    str,
    StringConstraints(pattern=r"^[^/\s][^\n\r\t]*[^/\s]$|^[^/\s]$", max_length=500),
    AfterValidator(lambda v: _check_repo_path(v)),
    Field(description="path inside the repo, no leading or trailing '/'"),
]


def _check_repo_id(value: str) -> str:
    if "--" in value or ".." in value or value.endswith(".git"):
        raise ValueError("a repo id may not contain '--' or '..' nor end in '.git'")
    return value


def _check_repo_path(value: str) -> str:
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError("path segments may not be empty, '.' or '..'")
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValueError(f"only https:// links are allowed, not {parts.scheme or 'a relative'} link")
    if not parts.netloc or parts.username or parts.password:
        raise ValueError("the link needs a host and no user name or password")
    if re.search(r"\s", value):
        raise ValueError("the link may not contain white space")
    return value


HttpsUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_https_url)]


def _version_string(value: object) -> object:
    """YAML reads `2.1` as a float; accept it as the string "2.1"."""
    return repr(value) if isinstance(value, float) else value


Generation = Annotated[vocabulary.Generation, BeforeValidator(_version_string)]
Recommendation = Literal["recommended", "worth-trying", "listed", "deprecated"]


class Strict(BaseModel):
    """Base of every data class: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class HfLink(Strict):
    """A place on the Hugging Face Hub; the URL is derived, never typed."""

    kind: Literal["file", "folder", "repo", "user"] = Field(
        description="file or folder inside a repo, a whole repo, or a user/organisation page"
    )
    repo: RepoId | HubName = Field(
        description="'owner/name' for file/folder/repo; the user or org name for user"
    )
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

    rank: Annotated[int, Field(ge=1)] | Literal["adaptive"] | None = Field(
        default=None, description="e.g. 64, or 'adaptive'"
    )
    average_rank: int | None = Field(
        default=None, ge=1, description="for adaptive LoRAs whose name gives a mean"
    )
    precision: Precision | None = None


class Lora(Strict):
    """One LoRA file of the catalog (data/loras/<id>.yaml)."""

    id: Slug
    file: LoraFile
    generation: Generation = Field(description="Wan generation the LoRA was made for")
    task: Task
    expert: Expert | None = Field(default=None, description="noise expert, when the name says it")
    family: Text = Field(
        description="distillation or style family: Lightning, lightx2v, rCM, FastWan, FusionX …"
    )
    claimed: Claimed = Claimed()
    recommendation: Recommendation = "listed"
    comment: Text | None = Field(default=None, description="the curator's comment")
    added: dt.date = Field(description="date the entry was added to the catalog")


class ModelDownload(Strict):
    """One download location of a base model."""

    precision: Precision | Literal["bf16/fp16"]
    link: Link


class BaseModelEntry(Strict):
    """A base model or checkpoint (data/models/<id>.yaml)."""

    id: Slug
    name: Text
    generation: Generation
    task: Task
    expert: Expert | None = None
    architecture: Architecture = Field(description="tensor layout, for the compatibility matrix")
    description: Text | None = None
    source: Link | None = Field(default=None, description="the official repo or page of the model")
    downloads: tuple[ModelDownload, ...] = ()
    added: dt.date


class LoraUse(Strict):
    """A LoRA applied on one expert, with its strength when known."""

    lora: Slug = Field(description="id of a LoRA in data/loras/")
    strength: float | None = Field(default=None, ge=-10, le=10)


class ExpertSetup(Strict):
    """What runs on one noise expert of a combination."""

    model: Slug | None = Field(
        default=None, description="id of a base model in data/models/; omit if unknown"
    )
    model_note: Text | None = Field(
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
    title: Text
    high: ExpertSetup | None = None
    low: ExpertSetup | None = None
    notes: Text | None = None
    downloads: tuple[ComboDownload, ...] = ()
    added: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        """A combination says something about at least one expert."""
        if self.high is None and self.low is None:
            raise ValueError("a combination needs 'high', 'low' or both")
        return self


class Trivia(Strict):
    """data/notes/trivia.yaml."""

    title: Text
    items: tuple[Text, ...] = Field(min_length=1)


class Quote(Strict):
    """A quotation with its author."""

    text: Text
    author: Text
    source: Link | None = None


class Point(Strict):
    """One advantage or drawback."""

    kind: Literal["pro", "con"]
    text: Text


class Approach(Strict):
    """One way of applying LoRAs, with its pros and cons."""

    name: Text
    qualifier: Text | None = None
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

    title: Text
    quote: Quote
    approaches: tuple[Approach, ...] = Field(min_length=1)


class NamedLink(Strict):
    """A link with the text shown for it."""

    label: Text
    link: Link


class RcmNote(Strict):
    """data/notes/rcm.yaml."""

    title: Text
    summary: Text
    links: tuple[NamedLink, ...] = ()
    loras: tuple[Slug, ...] = Field(default=(), description="ids of the extracted LoRAs in data/loras/")


class SpecialUse(Strict):
    """A special-use resource (data/special-use/<id>.yaml)."""

    id: Slug
    purpose: Text
    label: Text
    link: Link
    added: dt.date


class Site(Strict):
    """data/site.yaml: texts of the site that are not entries."""

    title: Text
    tagline: Text
    combinations_intro: tuple[Text, ...] = ()
    new_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="entries added this many days before the catalog's latest change are 'new'",
    )
