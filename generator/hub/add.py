"""`add`: write a new LoRA data file from a Hugging Face file URL.

The Hub tells whether the file exists and its size and sha256; the file name tells generation, task,
noise expert, rank and precision. The curator's comment is left to fill in. Facts (size, hash) are
shown in a comment only: the link check records them in data/hub-snapshot.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import ValidationError

from generator.catalog import models as m
from generator.catalog.validate import load_catalog
from generator.errors import ExitCode
from generator.files import write_atomic
from generator.hub.client import (
    GatedRepoError,
    HfHubHTTPError,
    RepoFile,
    RepositoryNotFoundError,
    TransportError,
    make_api,
)
from generator.lora.claims import claims_from_filename
from generator.lora.facts import Claims
from generator.settings import Settings

HUB_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
FAMILIES = ("Lightning", "lightx2v", "rCM", "FastWan", "FusionX", "Phantom", "CausVid", "AccVid", "Pusa")
SLUG = re.compile(m.SLUG_PATTERN)
_URL = re.compile(r"^/(?P<repo>[\w.\-]+/[\w.\-]+)/(?:blob|resolve)/(?P<rev>[^/]+)/(?P<path>.+)$")


class AddError(Exception):
    """A refusal with a message for the contributor (exit status 2)."""


@dataclass(frozen=True)
class HubFile:
    """The file as the URL names it."""

    repo: str
    revision: str
    path: str


def run(args: argparse.Namespace) -> int:
    """Write data/loras/<id>.yaml; exit 2 with a message on any refusal."""
    try:
        target = write_entry(args.root, args.url, args.date or dt.date.today(), args.entry_id)
    except AddError as err:
        print(f"add: {err}", file=sys.stderr)
        return ExitCode.USAGE
    print(
        f"wrote {target.relative_to(args.root).as_posix()}: fill in 'comment', check the guesses, then open a PR"
    )
    return 0


def parse_url(url: str) -> HubFile:
    """The repo, revision and path of a Hub file URL; refuse anything else."""
    parts = urlsplit(url.strip())
    endpoint = urlsplit(Settings().hf_endpoint)  # the Hub in use (an emulator in the tests) is accepted too
    if parts.hostname not in HUB_HOSTS | {endpoint.hostname} or parts.scheme not in (
        "https",
        endpoint.scheme,
    ):
        raise AddError(
            f"not a Hugging Face URL: {url!r} (expected https://huggingface.co/OWNER/REPO/blob/main/FILE)"
        )
    match = _URL.match(parts.path)
    if match is None:
        raise AddError(f"not a file URL: {url!r} (expected …/OWNER/REPO/blob/REVISION/PATH or …/resolve/…)")
    path = unquote(match["path"])
    if not path.endswith(".safetensors"):
        raise AddError(f"a LoRA is a .safetensors file, not {path.rsplit('/', 1)[-1]!r}")
    return HubFile(match["repo"], unquote(match["rev"]), path)


def write_entry(root: Path, url: str, added: dt.date, entry_id: str | None = None) -> Path:
    """Validate the URL, ask the Hub, and write the new data file atomically."""
    file = parse_url(url)
    entry_id = entry_id or slug(file.path)
    if not SLUG.fullmatch(entry_id):
        raise AddError(f"id {entry_id!r} is not valid: lower-case letters, digits, '-' and '.' only")
    _refuse_duplicates(root, file, entry_id)
    remote = fetch(file)
    text = entry_text(entry_id, file, remote, claims_from_filename(file.path), added)
    _check_entry(text)
    target = root / "data" / "loras" / f"{entry_id}.yaml"
    write_atomic(target, text)
    return target


def _check_entry(text: str) -> None:
    """The written entry must validate like any contributed one (a guard against writing a broken file)."""
    try:
        m.Lora.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        raise AddError(f"could not write a valid entry: {err.errors()[0]['msg']}") from err


def slug(path: str) -> str:
    """An id from the file name: lower case, '-' between words."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".safetensors").lower()
    return re.sub(r"[^a-z0-9.]+", "-", stem).strip("-.")[:100]


def _refuse_duplicates(root: Path, file: HubFile, entry_id: str) -> None:
    catalog = load_catalog(root / "data", root)
    for lora in catalog.loras:
        if (lora.file.repo, lora.file.path) == (file.repo, file.path):
            raise AddError(f"already in the catalog as {catalog.sources[f'loras/{lora.id}']}")
    if (root / "data" / "loras" / f"{entry_id}.yaml").exists():
        raise AddError(f"data/loras/{entry_id}.yaml already exists; choose another --id")


def fetch(file: HubFile) -> RepoFile:
    """The file's entry on the Hub (one paths-info call); refuse a missing file or repo."""
    api = make_api()
    try:
        found = api.get_paths_info(file.repo, [file.path], revision=file.revision)
    except GatedRepoError as err:  # paths-info answers for gated repos; kept for safety
        raise AddError(f"{file.repo} is gated: {err.server_message or err}") from err
    except RepositoryNotFoundError as err:
        raise AddError(f"no such repository on the Hub: {file.repo}") from err
    except HfHubHTTPError as err:
        raise AddError(f"the Hub did not answer for {file.repo}: {err}") from err
    except TransportError as err:
        raise AddError(f"cannot reach the Hub at {api.endpoint}: {err}") from err
    files = [item for item in found if isinstance(item, RepoFile)]
    if not files:
        raise AddError(f"no file {file.path!r} in {file.repo} at {file.revision}")
    return files[0]


def _family(path: str) -> str:
    lowered = path.lower()
    return next((family for family in FAMILIES if family.lower() in lowered), "other")


def _expert(path: str) -> str | None:
    match = re.search(r"(?:^|[_\-/.])(high|low)(?:[_\-/.]|noise|$)", path, re.IGNORECASE)
    return match.group(1).lower() if match else None


def entry_text(entry_id: str, file: HubFile, remote: RepoFile, claims: Claims, added: dt.date) -> str:
    """The YAML text of the new entry, with the guesses marked for review."""
    sha = remote.lfs.sha256 if remote.lfs else None
    lines = [
        "# yaml-language-server: $schema=../../schemas/lora.schema.json",
        "# Written by `python -m generator add`: check every guessed field, then fill in the comment.",
        f"# Hub: {remote.size:,} bytes, sha256 {sha or 'unknown (not an LFS file)'}",
        f"id: {entry_id}",
        "file:",
        f"  repo: {file.repo}",
        f"  path: {json.dumps(file.path, ensure_ascii=False)}",
        f'generation: "{claims.generation or "2.1"}"  # {_guess_note(claims.generation)}',
        f"task: {claims.task or 'T2V'}  # {_guess_note(claims.task)}",
    ]
    expert = _expert(file.path)
    if expert:
        lines.append(f"expert: {expert}")
    lines.append(f"family: {_family(file.path)}  # guessed; e.g. Lightning, lightx2v, rCM, FastWan, FusionX")
    lines += _claimed_lines(claims)
    lines += [
        "recommendation: listed",
        '# comment: "what you found, e.g. good motion at strength 1.0"',
        f"added: {added}",
    ]
    return "\n".join(lines) + "\n"


def _guess_note(found: str | None) -> str:
    return "guessed from the file name" if found else "NOT in the file name: please check"


def _claimed_lines(claims: Claims) -> list[str]:
    rank = "adaptive" if claims.rank_adaptive else claims.rank
    precision = {"fp8_e4m3fn": "fp8_e4m3"}.get(claims.precision or "", claims.precision)
    body = [f"  rank: {rank}"] if rank is not None else []
    body += [f"  average_rank: {claims.average_rank}"] if claims.average_rank else []
    body += (
        [f"  precision: {precision}"] if precision in ("bf16", "fp16", "fp32", "fp8_e4m3", "fp8_e5m2") else []
    )
    return ["claimed:  # as the file name says; the header check verifies it", *body] if body else []
