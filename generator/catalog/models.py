"""The catalog's data model: one pydantic class per kind of YAML file, strict and immutable.

Contributors write intent (which file, which model, what they found); facts such as sizes, hashes and
link status come from the Hub check and live in the snapshot, never here.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable
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
from generator.text import character_name, refuse_unsafe
from generator.vocabulary import HUB_URL, Expert, Precision, Task
from generator.vocabulary import ArchitectureId as Architecture

SLUG_PATTERN = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"
HUB_NAME_MAX = 96
"""The Hub's limit on one name (a user, an organisation or a repo's name)."""
_HUB_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.")
_HUB_NAME = r"[A-Za-z0-9_.\-]+"  # for editors' JSON Schema only: check_hub_id decides, with a message


def _checked_input(check: Callable[[str], str] | None = None, *, multiline: bool = False) -> BeforeValidator:
    """Checks a raw string before any other rule (type, pattern), so that the message names the fault.

    First no unsafe character (trailing newlines aside: YAML's `>` and `|` blocks end with one, and
    stripping removes it), then the check on the stripped value.
    """

    def validate(value: object) -> object:
        if isinstance(value, str):
            refuse_unsafe(value.rstrip("\n"), multiline=multiline)
            if check is not None:
                check(value.strip())
        return value

    return BeforeValidator(validate)


# Markdown block constructs a line of prose could open; the md filter escapes the others (# > - + * | and <,
# so that raw HTML stays text)
_BLOCK_STARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r" {4}"), "starts with 4 or more spaces, which Markdown shows as a code block"),
    (re.compile(r" {0,3}(?:```|~~~)"), "starts a fenced code block (``` or ~~~)"),
    (re.compile(r" {0,3}(?:\?\?\?|!!!)"), "starts a collapsible or admonition block (??? or !!!)"),
    (re.compile(r" {0,3}=+ *$"), "is a row of '=', which makes the line above a heading"),
)


def check_prose(value: str) -> str:
    """Prose keeps its lines and paragraphs, but no line may open a Markdown block: ValueError naming the line."""
    for number, line in enumerate(value.split("\n"), start=1):
        for pattern, problem in _BLOCK_STARTS:
            if pattern.match(line):
                raise ValueError(f"line {number} of the text {problem}; write plain sentences")
    return value


def check_hub_id(value: str) -> str:
    """A Hub id by the Hub's own rules: 'owner/name' or one user or organisation name; ValueError naming the fault.

    Each name holds only ASCII letters, digits, '-', '_' and '.' (so no look-alike letter from another
    script), at most 96 of them, no '--' or '..', and neither starts nor ends with '-' or '.'.
    """
    names = value.split("/")
    if len(names) > 2:
        raise ValueError("a Hub id is 'owner/name' or a user or organisation name: at most one '/'")
    start = 1
    for name in names:
        _check_hub_name(name, start)
        start += len(name) + 1
    if value.endswith(".git"):
        raise ValueError("a Hub id may not end in '.git'")
    return value


def check_repo_id(value: str) -> str:
    """A Hub repo id 'owner/name' (see :func:`check_hub_id`); ValueError naming the fault."""
    if value.count("/") != 1:
        raise ValueError("a repo id is 'owner/name', with exactly one '/'")
    return check_hub_id(value)


def _check_hub_name(name: str, start: int) -> None:
    """One name of a Hub id, whose first character is at (1-based) position start of the id."""
    for position, char in enumerate(name, start=start):
        if char not in _HUB_NAME_CHARACTERS:
            raise ValueError(
                f"character {character_name(char)} at position {position} is not allowed in a Hub id; "
                "use ASCII letters, digits, '-', '_' and '.'"
            )
    if not name:
        raise ValueError("a Hub id may not have an empty name (a leading, trailing or double '/')")
    if len(name) > HUB_NAME_MAX:
        raise ValueError(f"a name of a Hub id has at most {HUB_NAME_MAX} characters, not {len(name)}")
    if "--" in name or ".." in name:
        raise ValueError("a Hub id may not contain '--' or '..'")
    if name[0] in "-." or name[-1] in "-.":
        raise ValueError("a name of a Hub id may not start or end with '-' or '.'")


_LINE = _checked_input()
Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=100),
    _LINE,
    Field(description="lower-case id: letters, digits, '-' and '.', e.g. wan22-t2v-high-lightning"),
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), _LINE]
"""Text on one line: names, titles, labels (they reach table cells, headings and terminals)."""
Prose = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    _checked_input(multiline=True),
    AfterValidator(check_prose),
    Field(
        description="text; may hold several lines and paragraphs, but no Markdown block (code, fence, ???, !!!)"
    ),
]
"""Free text in sentences, possibly in paragraphs (comments, notes, descriptions)."""
RepoId = Annotated[
    str,
    StringConstraints(pattern=f"^{_HUB_NAME}/{_HUB_NAME}$", max_length=2 * HUB_NAME_MAX + 1),
    _checked_input(check_repo_id),
    Field(description="Hugging Face repo id 'owner/name'"),
]
HubId = Annotated[
    str,
    StringConstraints(pattern=f"^{_HUB_NAME}(?:/{_HUB_NAME})?$", max_length=2 * HUB_NAME_MAX + 1),
    _checked_input(check_hub_id),
    Field(description="'owner/name' for file/folder/repo; the user or org name for user"),
]
RepoPath = Annotated[
    str,
    StringConstraints(pattern=r"^[^/\s][^\n\r\t]*[^/\s]$|^[^/\s]$", max_length=500),
    _LINE,
    AfterValidator(lambda v: _check_repo_path(v)),
    Field(description="path inside the repo, no leading or trailing '/'"),
]


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


HttpsUrl = Annotated[str, StringConstraints(max_length=2000), _LINE, AfterValidator(_https_url)]


def _version_string(value: object) -> object:
    """YAML reads `2.1` as a float; accept it as the string "2.1"."""
    return repr(value) if isinstance(value, float) else value


Generation = Annotated[vocabulary.Generation, BeforeValidator(_version_string)]
Recommendation = Literal["recommended", "worth-trying", "listed", "deprecated"]
Source = Annotated[
    Literal["seed", "contributor"],
    Field(
        description="whose words the comment and notes are: 'seed' = the project's original page "
        "(kept exactly as it said them), 'contributor' = the person who added the entry"
    ),
]


class Strict(BaseModel):
    """Base of every data class: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


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


class ModelDownload(Strict):
    """One download location of a base model."""

    precision: Precision | Literal["bf16/fp16"]
    link: Link


class BaseModelEntry(Strict):
    """A base model or checkpoint (data/models/<id>.yaml)."""

    id: Slug
    name: Line
    generation: Generation
    task: Task
    expert: Expert | None = None
    architecture: Architecture = Field(description="tensor layout, for the compatibility matrix")
    description: Prose | None = None
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
