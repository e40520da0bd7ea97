"""`add`: write a new LoRA data file from a Hugging Face file URL.

The Hub tells whether the file exists and its size and sha256; the file name tells generation, task,
noise expert, rank and precision. The curator's comment is left to fill in. Facts (size, hash) are
shown in a comment only: the link check records them in data/hub-snapshot.json.

One LoRA, several places: a file already catalogued (as an entry's file or one of its mirrors) is refused; a
file whose sha256 on the Hub equals a catalogued file's (as the snapshot holds it) is the same LoRA, and is
written as a mirror of that entry (its text edited, never rewritten: :mod:`generator.catalog.mirrors`); with
``--mirror-of ID`` the curator says so before the hashes are known (refused when they are known to differ).
A new entry that shares its file name with a catalogued one gets a note: same name, identity not yet checked.

Everything from outside is untrusted: the URL is checked with the data files' own rules before any
request, every value the Hub answers is checked before use, and the YAML is written by a serializer
and read back before the file is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

import yaml
from pydantic import ValidationError

from generator.catalog import models as m
from generator.catalog.fields import UNSHOWN_PATH
from generator.catalog.load import read_document
from generator.catalog.mirrors import MirrorError, with_mirror
from generator.catalog.new_lora import MAX_ID, file_slug, in_field_order, lora_fields
from generator.catalog.snapshot import link_key, read_snapshot
from generator.catalog.validate import Catalog, load_catalog
from generator.errors import ExitCode
from generator.files import write_atomic
from generator.hub.client import (
    GatedRepoError,
    HfHubHTTPError,
    RepoFile,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    TransportError,
    make_api,
)
from generator.lora.facts import Claims
from generator.lora.filename import claims_from_filename
from generator.settings import Settings
from generator.text import character_name, one_line, printable, unsafe_character
from generator.vocabulary import HUB_URL

HUB_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
SLUG = re.compile(m.SLUG_PATTERN)
MAX_SIZE = 2**53  # above this a size is not exact in JSON numbers read as doubles: not believable
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DOWNLOAD_QUERIES = ("", "download=true", "download=1")  # what the Hub's download button appends
_EXAMPLE = "https://huggingface.co/OWNER/REPO/blob/main/PATH.safetensors"
_SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/lora.schema.json"
Data = dict[str, object]


class AddError(Exception):
    """A refusal with a message for the contributor (exit status 2)."""


@dataclass(frozen=True)
class HubFile:
    """The file as the URL names it."""

    repo: str
    revision: str
    path: str


@dataclass(frozen=True)
class HubFacts:
    """What the Hub says about the file, checked: None where its answer is missing or not believable."""

    size: int | None
    sha256: str | None
    lfs: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Written:
    """The data file written, and what the contributor should know about the Hub's answer."""

    target: Path
    notes: tuple[str, ...]
    mirror: bool = False
    """True when the file was added as a mirror of the entry in ``target``."""


def run(args: argparse.Namespace) -> int:
    """Write data/loras/<id>.yaml; exit 2 with one `add: ` line on any refusal."""
    try:
        written = write_entry(
            args.root, args.url, args.date or dt.date.today(), args.entry_id, args.mirror_of
        )
    except AddError as err:
        print(f"add: {printable(str(err))}", file=sys.stderr)
        return ExitCode.USAGE
    for note in written.notes:
        print(f"add: note: {note}", file=sys.stderr)
    where = written.target.relative_to(args.root).as_posix()
    if written.mirror:
        print(f"wrote {where}: the file is listed there as a mirror; open a PR")
    else:
        print(f"wrote {where}: fill in 'comment', check the guesses, then open a PR")
    return ExitCode.OK


def write_entry(
    root: Path, url: str, added: dt.date, entry_id: str | None = None, mirror_of: str | None = None
) -> Written:
    """Validate the URL, ask the Hub, and write the new data file (or the entry's new mirror) atomically."""
    settings = Settings()
    file = parse_url(url, settings.hf_endpoint)
    catalog = load_catalog(root / "data", root)
    _refuse_catalogued(catalog, file)
    entry_id = check_id(entry_id) if entry_id is not None else slug_for(file.path)
    if mirror_of is None and (root / "data" / "loras" / f"{entry_id}.yaml").exists():
        raise AddError(f"data/loras/{entry_id}.yaml already exists; choose another --id")
    facts = hub_facts(fetch(file, settings))
    known = _known_sha256(root, catalog)
    same = _mirror_target(catalog, known, facts, mirror_of)
    if same is not None:
        return _write_mirror(root, catalog, same, file, facts, known)
    claims = claims_from_filename(file.path)
    data = entry_data(entry_id, file, added)
    text = entry_text(data, facts, claims)
    _check_entry(text, data)
    target = root / "data" / "loras" / f"{entry_id}.yaml"
    write_atomic(target, text)
    return Written(target, facts.notes + tuple(_namesake_notes(catalog, known, file, facts)))


# ----------------------------------------------------------------------------- the URL


def parse_url(url: str, endpoint: str = HUB_URL) -> HubFile:
    """The repo, revision and path of a Hub file URL, each checked; refuse anything else.

    Accepted: https on huggingface.co (or www., hf.co) without a port, or the origin of ``endpoint``
    (``HF_ENDPOINT``: how the tests point at the emulator); no user info, no fragment, no query but the
    download button's ``?download=true``.
    """
    url = url.strip()
    _refuse_unsafe(url, "the URL")
    parts = _split(url)
    _check_origin(parts, url, endpoint)
    if parts.fragment or parts.query not in _DOWNLOAD_QUERIES:
        raise AddError(f"the URL may not carry a query or a fragment ('?…', '#…'): '{printable(url)}'")
    file = _file_from_path(parts.path, url)
    _check_file(file)
    return file


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # an invalid port raises only when read
    except ValueError as err:
        raise AddError(f"not a valid URL: '{printable(url)}' ({err})") from err
    return parts


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    return parts.scheme, parts.hostname, parts.port


def _check_origin(parts: SplitResult, url: str, endpoint: str) -> None:
    hub = _origin(urlsplit(endpoint))
    if parts.scheme not in ("https", hub[0]):
        raise AddError(f"not a Hugging Face URL: '{printable(url)}' (expected {_EXAMPLE})")
    if not parts.hostname:
        raise AddError(f"the URL has no host: '{printable(url)}' (expected {_EXAMPLE})")
    if "@" in parts.netloc:
        raise AddError(f"the URL may not hold a user name or password: '{printable(url)}'")
    allowed = {("https", host, None) for host in HUB_HOSTS} | {hub}
    if _origin(parts) not in allowed:
        raise AddError(f"not a Hugging Face URL: '{printable(url)}' (expected {_EXAMPLE})")


def _file_from_path(raw: str, url: str) -> HubFile:
    """…/OWNER/REPO/blob|resolve/REVISION/PATH, each piece percent-decoded after splitting."""
    segments = raw.split("/")
    if len(segments) < 6 or segments[0] or segments[3] not in ("blob", "resolve"):
        raise AddError(
            f"not a file URL: '{printable(url)}' (expected …/OWNER/REPO/blob/REVISION/PATH or …/resolve/…)"
        )
    owner, name, revision = (_unquote(part, url) for part in (segments[1], segments[2], segments[4]))
    _check_repo_id(f"{owner}/{name}")
    return HubFile(f"{owner}/{name}", revision, _unquote("/".join(segments[5:]), url))


def _unquote(part: str, url: str) -> str:
    try:
        return unquote(part, errors="strict")
    except UnicodeDecodeError as err:
        raise AddError(f"the URL's percent-encoding is not UTF-8: '{printable(url)}'") from err


def _check_repo_id(repo: str) -> None:
    """The Hub's own rules for a repo id, as data files follow them: ASCII names, no '--' or '..'."""
    try:
        m.check_hub_id(repo)
    except ValueError as err:
        raise AddError(f"the repo id '{printable(repo)}' is not valid: {err}") from err


def _refuse_unsafe(value: str, what: str, why: str = "") -> None:
    bad = unsafe_character(value)
    if bad is not None:
        raise AddError(f"{what} holds {character_name(bad)}: '{printable(value)}'{why}")


_PATH_REFUSAL = f"; {UNSHOWN_PATH}: ask the repo's owner to rename the file"


def _check_file(file: HubFile) -> None:
    """Repo id and path follow the rules of a data file; the revision is one the Hub can name."""
    _refuse_unsafe(file.path, "the file path", _PATH_REFUSAL)
    _refuse_unsafe(file.revision, "the revision")
    if any(part in ("", ".", "..") for part in file.revision.split("/")):
        raise AddError(f"the revision '{printable(file.revision)}' is not valid")
    if not file.path.endswith(".safetensors"):
        raise AddError(f"a LoRA is a .safetensors file, not '{printable(file.path.rsplit('/', 1)[-1])}'")
    try:
        checked = m.LoraFile.model_validate({"repo": file.repo, "path": file.path})
    except ValidationError as err:
        error = err.errors(include_url=False)[0]
        field = "repo id" if error["loc"][:1] == ("repo",) else "file path"
        value = file.repo if field == "repo id" else file.path
        reason = error["msg"].removeprefix("Value error, ")
        raise AddError(f"the {field} '{printable(value)}' is not valid: {reason}") from err
    if (checked.repo, checked.path) != (file.repo, file.path):
        raise AddError(f"the file path '{printable(file.path)}' starts or ends with white space")


# ----------------------------------------------------------------------------- the id


def check_id(entry_id: str) -> str:
    """A --id given by the contributor: a valid slug, so nothing is written outside data/loras/."""
    if len(entry_id) > MAX_ID or not SLUG.fullmatch(entry_id):
        raise AddError(
            f"id '{printable(entry_id)}' is not valid: lower-case letters, digits, '-' and '.' only, "
            f"at most {MAX_ID} characters"
        )
    return entry_id


def slug_for(path: str) -> str:
    """The id made from the file name; refuse a name that gives none."""
    entry_id = file_slug(path)
    if not entry_id:
        name = path.rsplit("/", 1)[-1]
        raise AddError(
            f"cannot make an id from the file name '{printable(name)}' (no ASCII letter or digit); "
            "choose one with --id"
        )
    return entry_id


def _refuse_catalogued(catalog: Catalog, file: HubFile) -> None:
    """A place is catalogued once: as an entry's file, or as one of its mirrors."""
    for lora in catalog.loras:
        for index, place in enumerate(lora.files):
            if (place.repo, place.path) == (file.repo, file.path):
                what = "" if index == 0 else " (a mirror)"
                raise AddError(f"already in the catalog as {catalog.sources[f'loras/{lora.id}']}{what}")


# ----------------------------------------------------------------------------- mirrors


def _known_sha256(root: Path, catalog: Catalog) -> dict[tuple[str, str], str]:
    """(repo, path) of each catalogued file and mirror -> its sha256, as the committed snapshot holds it."""
    snapshot = read_snapshot(root)
    found: dict[tuple[str, str], str] = {}
    for lora in catalog.loras:
        for place in lora.files:
            fact = snapshot.fact(link_key(place.link))
            if fact is not None and fact.sha256:
                found[(place.repo, place.path)] = fact.sha256
    return found


def _mirror_target(
    catalog: Catalog, known: dict[tuple[str, str], str], facts: HubFacts, mirror_of: str | None
) -> m.Lora | None:
    """The entry the file is a mirror of: the one ``--mirror-of`` names (refused when the bytes are known to
    differ), else the one whose file or mirror has the same sha256; None for a new entry."""
    if mirror_of is not None:
        try:
            lora = catalog.lora(mirror_of)
        except KeyError:
            raise AddError(f"--mirror-of: no LoRA '{printable(mirror_of)}' in data/loras/") from None
        theirs = known.get((lora.file.repo, lora.file.path))
        if facts.sha256 is not None and theirs is not None and theirs != facts.sha256:
            raise AddError(
                f"the file's sha256 ({facts.sha256}) differs from {lora.id}'s ({theirs}): it is not a mirror; "
                "add it as an entry of its own (without --mirror-of)"
            )
        return lora
    if facts.sha256 is None:
        return None
    return next(
        (
            lora
            for lora in catalog.loras
            for place in lora.files
            if known.get((place.repo, place.path)) == facts.sha256
        ),
        None,
    )


def _write_mirror(
    root: Path,
    catalog: Catalog,
    lora: m.Lora,
    file: HubFile,
    facts: HubFacts,
    known: dict[tuple[str, str], str],
) -> Written:
    """List the file under the entry's mirrors; the note says whether the bytes are known to be the same."""
    display = catalog.sources[f"loras/{lora.id}"]
    target = root / display
    try:
        text = with_mirror(target, display, file.repo, file.path)
    except MirrorError as err:
        raise AddError(f"cannot add the mirror: {err}") from err
    write_atomic(target, text)
    if facts.sha256 is not None and facts.sha256 in {known.get((p.repo, p.path)) for p in lora.files}:
        note = f"identical bytes to {lora.id}'s file (sha256 {facts.sha256}): written as its mirror"
    else:
        note = f"written as a mirror of {lora.id}; identity not yet checked (the weekly check compares the sha256)"
    return Written(target, (*facts.notes, note), mirror=True)


def _namesake_notes(
    catalog: Catalog, known: dict[tuple[str, str], str], file: HubFile, facts: HubFacts
) -> list[str]:
    """A note per catalogued entry publishing a file of the same name: the same LoRA, perhaps, not yet known."""
    name = file.path.rsplit("/", 1)[-1]
    notes = []
    for lora in catalog.loras:
        for place in lora.files:
            if place.filename == name:
                theirs = known.get((place.repo, place.path))
                if theirs is not None and facts.sha256 is not None:
                    notes.append(
                        f"same file name as {lora.id}, other bytes (sha256 {theirs} there): another file"
                    )
                else:
                    notes.append(
                        f"same file name as {lora.id}; identity not yet checked: if it is the same file, "
                        f"remove this entry and run add again with --mirror-of {lora.id}"
                    )
                break
    return notes


# ----------------------------------------------------------------------------- the Hub


def fetch(file: HubFile, settings: Settings | None = None) -> RepoFile:
    """The file's entry on the Hub (one paths-info call); refuse a missing file or repo."""
    api = make_api(settings)
    try:
        found = api.get_paths_info(file.repo, [file.path], revision=file.revision)
    except GatedRepoError as err:  # paths-info answers for gated repos; kept for safety
        raise AddError(f"{file.repo} is gated: {_hub_message(err)}") from err
    except RepositoryNotFoundError as err:
        raise AddError(f"no such repository on the Hub: {file.repo}") from err
    except RevisionNotFoundError as err:
        raise AddError(f"no revision '{printable(file.revision)}' in {file.repo} on the Hub") from err
    except HfHubHTTPError as err:
        status = err.response.status_code
        raise AddError(
            f"the Hub did not answer for {file.repo} (HTTP {status}): {_hub_message(err)}"
        ) from err
    except TransportError as err:
        raise AddError(f"cannot reach the Hub at {one_line(api.endpoint)}: {one_line(str(err))}") from err
    except (KeyError, TypeError, ValueError) as err:  # the client indexes the JSON answer unchecked
        raise AddError(f"the Hub's answer about {file.repo} is malformed ({type(err).__name__})") from err
    files = [item for item in found if isinstance(item, RepoFile) and item.path == file.path]
    if not files:
        revision = printable(file.revision)
        raise AddError(f"no file '{printable(file.path)}' in {file.repo} at {revision}")
    return files[0]


def _hub_message(err: HfHubHTTPError) -> str:
    """The server's error text as one printable line (it is untrusted)."""
    return one_line(err.server_message or str(err))


def hub_facts(remote: RepoFile) -> HubFacts:
    """Size and sha256 as the Hub gives them, or None (with a note) when they are not believable."""
    size = _byte_count(remote.size)
    sha = _sha256(remote.lfs.sha256) if remote.lfs is not None else None
    notes = []
    if size is None:
        notes.append("the Hub's size is not a whole number of bytes below 2**53: size unknown")
    if remote.lfs is not None and sha is None:
        notes.append("the Hub's sha256 is not 64 lower-case hex digits: sha256 unknown")
    return HubFacts(size, sha, remote.lfs is not None, tuple(notes))


def _byte_count(value: object) -> int | None:
    """A size from JSON (typed int by the client, but unchecked): a non-negative int below 2**53."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_SIZE:
        return value
    return None


def _sha256(value: object) -> str | None:
    """A sha256 from JSON: exactly 64 lower-case hex digits (no newline, nothing around them)."""
    return value if isinstance(value, str) and _SHA256.fullmatch(value) else None


# ----------------------------------------------------------------------------- the entry


def entry_data(entry_id: str, file: HubFile, added: dt.date) -> Data:
    """The fields of the new entry, in the order of the data files; 2.1 and T2V where the name is silent."""
    found = lora_fields(entry_id, file.repo, file.path)
    return in_field_order({"generation": "2.1", "task": "T2V", **found, "added": added})


def entry_text(data: Data, facts: HubFacts, claims: Claims) -> str:
    """The YAML text: a header comment of checked facts and fixed words, then the serialized data."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    return "\n".join([*_header(facts, claims, data), body])


def _header(facts: HubFacts, claims: Claims, data: Data) -> list[str]:
    """Comment lines; the only values in them are a checked size (digits) and sha256 (hex)."""
    from_name = {"generation": claims.generation, "task": claims.task}
    guessed = [name for name, found in from_name.items() if found]
    guessed += [name for name in ("expert", "claimed") if name in data]
    defaults = [name for name, found in from_name.items() if not found]
    lines = [
        _SCHEMA_LINE,
        "# Written by `python -m generator add`: check every guessed field, then fill in the comment.",
        f"# Hub: {_size_text(facts)}, sha256 {_sha_text(facts)}",
        f"# Guessed from the file name: {', '.join(guessed) or 'nothing'} (the header check verifies claimed).",
    ]
    if defaults:
        lines.append(f"# NOT in the file name, so a default: please check {' and '.join(defaults)}.")
    return [
        *lines,
        "# family is guessed: e.g. Lightning, lightx2v, rCM, FastWan, FusionX, or other.",
        '# Add what you found: comment: "e.g. good motion at strength 1.0"',
    ]


def _size_text(facts: HubFacts) -> str:
    return f"{facts.size:,} bytes" if facts.size is not None else "size unknown (not a valid byte count)"


def _sha_text(facts: HubFacts) -> str:
    if facts.sha256 is not None:
        return facts.sha256
    return "unknown (not 64 lower-case hex digits)" if facts.lfs else "unknown (not an LFS file)"


def _check_entry(text: str, data: Data) -> None:
    """The text reads back as the data meant, through the project's own loader, and validates."""
    try:
        round_trip = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise AddError("could not write a valid entry: the YAML does not read back") from err
    with tempfile.TemporaryDirectory(prefix="lora-alchemy-add-") as folder:
        file = Path(folder) / "entry.yaml"
        file.write_text(text, encoding="utf-8")
        doc, problems = read_document(file, "entry.yaml")
    if round_trip != data or doc is None or problems or doc.data != data:
        raise AddError("could not write a valid entry: the YAML does not read back as meant")
    try:
        m.Lora.model_validate(doc.data)
    except ValidationError as err:
        raise AddError(f"could not write a valid entry: {err.errors()[0]['msg']}") from err
