"""Render the validated catalog and the Hub snapshot into Markdown pages and catalog.json (stage `build`).

Last step of the site stage (filters → commands → setups → workflows → views → context → catalog_json →
render): the Jinja environment, the table of pages, and rendering them, in two forked workers for large
catalogs. Rendering is a pure function of (catalog, snapshot): no clock, no network, stable order, so two
runs give byte-identical pages. Templates live in generator/site/templates/ (StrictUndefined, autoescape
on) and only place what the context computed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

from generator.catalog.snapshot import Snapshot
from generator.catalog.validate import Catalog
from generator.site.catalog_json import catalog_json
from generator.site.catalog_page import CatalogRows, catalog_rows, sort_keys
from generator.site.context import Context
from generator.site.feed import FEED_PATH, feed_xml
from generator.site.filters import FILTERS, a
from generator.site.freshness import Edition

PAGES = {
    "index.md": "index.md.j2",
    "catalog.md": "catalog.md.j2",
    "combinations.md": "combinations.md.j2",
    "merging.md": "merging.md.j2",
    "rcm.md": "rcm.md.j2",
    "trivia.md": "trivia.md.j2",
    "special-use.md": "special-use.md.j2",
    "changes.md": "changes.md.j2",
    "compatibility.md": "compatibility.md.j2",
    "setups.md": "setups.md.j2",
}
LORA_PAGE = "lora.md.j2"
AS_OF = "_as_of.j2"
CATALOG_ROW = "_catalog_row.j2"
CATALOG_PAGE = "catalog.md"
ROWS_JSON = "catalog-rows.json"
"""Every catalog row's filter values and sort keys, for the catalog page's script (generator.site.catalog_page)."""
ROWS_HTML = "catalog-rows-html.json"
"""Every catalog row's HTML, in the same order."""
MODEL_PAGE = "model.md.j2"
CATALOG_JSON = "catalog.json"

_ENVIRONMENT_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


def _bytecode_cache() -> BytecodeCache | None:
    """Compiled templates kept in the user's cache folder, if there is a private, writable one.

    Compiling the templates is most of a small build's time. Jinja keys each entry by the template's
    source; the folder's name adds Jinja's version and the environment's options, which change the
    compiled code too. The cache changes no output.
    """
    key = hashlib.sha256(
        repr((jinja2.__version__, sorted(_ENVIRONMENT_OPTIONS.items()))).encode()
    ).hexdigest()
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = base / "lora-alchemy" / f"jinja-{key[:16]}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except (OSError, RuntimeError):  # no home folder, read-only file system
        return None
    private = info.st_uid == os.getuid() and not info.st_mode & 0o022
    return FileSystemBytecodeCache(str(folder)) if private and os.access(folder, os.W_OK) else None


@cache
def environment() -> Environment:
    """The Jinja2 environment: templates from the package, strict, autoescaping (one per process)."""
    env = Environment(
        loader=PackageLoader("generator.site", "templates"),
        autoescape=True,
        bytecode_cache=_bytecode_cache(),
        **_ENVIRONMENT_OPTIONS,
    )
    env.filters.update(FILTERS)
    env.globals.update(a=a)
    return env


PARALLEL_FROM = 2000  # from this many LoRAs on, pages are rendered by two worker processes
_LORA_CHUNKS = 8  # LoRA pages are split in chunks so that both workers finish at about the same time
_WORKER_CONTEXT: list[Context] = []  # handed to forked workers (fork copies it; nothing is pickled)


def render_pages(
    catalog: Catalog,
    snapshot: Snapshot,
    *,
    parallel_from: int = PARALLEL_FROM,
    edition: Edition | None = None,
) -> dict[str, str]:
    """Every generated file under docs/ (relative path -> text); the same text however it is computed.

    `edition` is what the build adds (the commit's date, the site's address): see generator.site.freshness.
    """
    ctx = Context(catalog, snapshot, edition)
    pages: dict[str, str] = dict(ctx.workflows.files)  # built before any worker forks: they share it
    for rendered in _render_jobs(ctx, _jobs(ctx), parallel=len(catalog.loras) >= parallel_from):
        pages.update(rendered)
    return dict(sorted(pages.items()))


def _jobs(ctx: Context) -> list[list[str]]:
    """The paths to render, grouped into jobs, the longest first (the catalog table grows with every LoRA)."""
    lora_paths = [f"loras/{lora.id}.md" for lora in ctx.catalog.loras]
    model_paths = [f"models/{model.id}.md" for model in ctx.catalog.models]
    rest = [path for path in [*PAGES, CATALOG_JSON, FEED_PATH, *model_paths] if path != CATALOG_PAGE]
    size = -(-len(lora_paths) // _LORA_CHUNKS)
    chunks = [lora_paths[i : i + size] for i in range(0, len(lora_paths), size)] if lora_paths else []
    return [[CATALOG_PAGE], rest, *chunks]


def _render_jobs(ctx: Context, jobs: list[list[str]], *, parallel: bool) -> Iterator[dict[str, str]]:
    """Render each job here, or spread the jobs over two forked processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    can_fork = "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
    if not (parallel and can_fork):
        yield from (_render(ctx, job) for job in jobs)
        return
    _WORKER_CONTEXT[:] = [ctx]
    try:
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_render_in_worker, jobs)
    finally:
        _WORKER_CONTEXT.clear()


def _render_in_worker(paths: list[str]) -> dict[str, str]:
    return _render(_WORKER_CONTEXT[0], paths)


def _render(ctx: Context, paths: list[str]) -> dict[str, str]:
    env = environment()
    rendered = {path: _render_one(env, ctx, path) for path in paths if path != CATALOG_PAGE}
    if CATALOG_PAGE in paths:  # the catalog page and its rows' JSON, from the same rendered rows
        rows = _catalog_rows(env, ctx)
        page = env.get_template(PAGES[CATALOG_PAGE]).render(
            ctx=ctx, c=ctx.catalog, rows=rows, data=ROWS_JSON, html=ROWS_HTML
        )
        rendered[CATALOG_PAGE] = page + _footer(env, ctx, CATALOG_PAGE)
        rendered[ROWS_JSON] = rows.json
        rendered[ROWS_HTML] = rows.html_json
    return rendered


def _render_one(env: Environment, ctx: Context, path: str) -> str:
    if path == CATALOG_JSON:
        return catalog_json(ctx)
    if path == FEED_PATH:
        return feed_xml(ctx)
    return _render_page(env, ctx, path) + _footer(env, ctx, path)


def _footer(env: Environment, ctx: Context, path: str) -> str:
    """What every page ends with: when its data is from (Markdown links are relative to the page's folder)."""
    return env.get_template(AS_OF).render(ctx=ctx, root="../" * path.count("/"))


def _catalog_rows(env: Environment, ctx: Context) -> CatalogRows:
    """Each catalog row rendered once, for the table and for the page's JSON (generator.site.catalog_page)."""
    row = env.get_template(CATALOG_ROW)
    views = [ctx.lora(lora) for lora in ctx.catalog.loras]
    keys = [sort_keys(view) for view in views]
    html = [row.render(ctx=ctx, row=view, keys=key) for view, key in zip(views, keys, strict=True)]
    return catalog_rows(views, keys, html)


def _render_page(env: Environment, ctx: Context, path: str) -> str:
    catalog = ctx.catalog
    if path in PAGES:
        return env.get_template(PAGES[path]).render(ctx=ctx, c=catalog)
    if path.startswith("models/"):
        model = catalog.model(path.removeprefix("models/").removesuffix(".md"))
        return env.get_template(MODEL_PAGE).render(ctx=ctx, c=catalog, model=model, view=ctx.model(model))
    lora = catalog.lora(path.removeprefix("loras/").removesuffix(".md"))
    return env.get_template(LORA_PAGE).render(ctx=ctx, c=catalog, lora=lora, view=ctx.lora(lora))
