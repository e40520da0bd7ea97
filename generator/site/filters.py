"""How a value is written into a page: escaping, links, sizes, numbers, code blocks (the Jinja filters).

First step of the site stage (filters → commands → fit → setups → context → catalog_json → render): pure
string functions of one value each, no catalog, no snapshot. The templates apply them by name (FILTERS);
`a` is the one template global. Every user string passes through autoescape (HTML), |md (Markdown prose)
or |text (any context, entities for every special character).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from markupsafe import Markup, escape

from generator.catalog import models as m
from generator.text import LINE_BREAKS

_MAX_DIGITS = 100  # a number with more digits than this comes from a broken snapshot: not printed in full
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
# HTML-escape and turn Markdown's active characters into numeric entities: safe in HTML and in Markdown alike;
# a line break (which would end a table row or start a block) becomes a space
_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_[]()!|{}"}
    | dict.fromkeys(LINE_BREAKS, " ")
)
STATUS_LABELS = {
    "ok": "ok",
    "moved": "moved",
    "renamed": "renamed",
    "gated": "gated",
    "missing_file": "missing file",
    "missing_repo": "missing repo",
    "missing_revision": "missing revision",
    "disabled": "disabled",
    "unverified": "unverified",
}


def md(value: object) -> Markup:
    """Escape a user string for Markdown prose: HTML-escaped and Markdown punctuation backslashed."""
    return Markup(_MD_SPECIAL.sub(r"\\\1", str(escape(value))))  # noqa: S704 - escaped just before


def text(value: object) -> Markup:
    """Escape a one-line string for any context (HTML, Markdown prose, Markdown table cells) with entities."""
    return Markup(str(value).translate(_ENTITIES))  # noqa: S704 - every special character is an entity


def breakable(value: object) -> Markup:
    """Like |text, with a <wbr> after each _ - / so that long file names break there, not mid-word."""
    return Markup("<wbr>").join(text(piece) for piece in re.split(r"(?<=[_\-/])", str(value)))


def https(url: str) -> str:
    """Refuse anything but an https URL where a link is written (defence in depth)."""
    if not url.startswith("https://"):
        raise ValueError(f"refusing to render a non-https link: {url!r}")
    return url


def a(link: m.HfLink | str, label_text: object = None) -> Markup:
    """An <a> element for a catalog link: https only, href and text escaped (the label by default)."""
    label = label_text if label_text is not None else link.label if isinstance(link, m.HfLink) else link
    return Markup('<a href="{}">{}</a>').format(https(m.link_url(link)), text(label))


def human_size(size: int | None) -> str:
    """Decimal units with three significant digits, as the Hub shows them: 631 MB, 1.25 GB.

    Integer arithmetic picks the unit, so an absurd size (10**400) is shown, never a float overflow.
    """
    if size is None:
        return "unknown"
    if size < 1000:
        return f"{size} B"
    for power, unit in enumerate(("kB", "MB", "GB", "TB"), start=1):
        if size * 1000 < 999_500 * 1000**power:  # under 999.5 of this unit, which rounds below 1000
            return f"{size / 1000**power:.3g} {unit}"
    return f"{grouped((size + 500 * 1000**3) // 1000**4)} TB"


def grouped(number: int) -> str:
    """An integer with thousands separators (1,253,192,432); one too long to print is said to be so."""
    if abs(number) >= 10**_MAX_DIGITS:
        return f"{'less than -' if number < 0 else 'more than '}10^{_MAX_DIGITS}"
    return f"{number:,}"


def status_label(status: str) -> Markup:
    """The words shown for a link status of the snapshot, escaped (an unknown status is shown as it is)."""
    return text(STATUS_LABELS.get(status, status))


def number(value: float | None) -> str:
    """A number as a page shows it: at most two decimals, no float noise (5.000000000000001 -> 5)."""
    if value is None:
        return "not given"
    shown = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown


def strength_text(value: float | None) -> str:
    """A LoRA strength: 1.0, 0.75 (always with a decimal point)."""
    if value is None:
        return "strength not given"
    shown = number(value)
    return shown if "." in shown else f"{shown}.0"


def fenced(lines: str | Iterable[str], language: str = "sh") -> Markup:
    """A fenced Markdown code block holding one command or several, verbatim (Markdown escapes code itself).

    Each command must be one line; the fence is longer than any backtick run in them, so it cannot close early.
    """
    commands = [lines] if isinstance(lines, str) else list(lines)
    if any("\n" in line or "\r" in line for line in commands):
        raise ValueError("each line of a fenced block must be a single line")
    longest = max((len(run) for line in commands for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence} {language}\n" + "\n".join(commands) + f"\n{fence}")  # noqa: S704 - literal code


def quoted(value: object) -> Markup:
    """A Markdown blockquote of a text, verbatim: each line escaped as prose, opened with '>' and ended with a
    hard line break, blank lines kept inside the quote (a template's note may hold headings, lists, tables and
    links: shown as written, line by line, not run)."""
    lines = str(value).splitlines() or [""]
    return Markup("\n".join(f"> {md(line)}  " if line.strip() else ">" for line in lines))  # noqa: S704 - md escaped


def unindexed(block: Markup) -> Markup:
    """A Markdown block the site search leaves out (data-search-exclude, which the indexers of MkDocs Material
    and Zensical honour): a table of facts or a download command, whose every cell would match a number or a
    name in a query ("4" in "480p"). The page shows it as before; the search keeps prose, names and headings.

    The block must not hold a div of its own besides one code block (Material's indexer stops skipping at the
    first closing div).
    """
    if not isinstance(block, Markup):
        raise TypeError("unindexed takes rendered Markup")
    return Markup("<div data-search-exclude markdown>\n\n{}\n\n</div>\n").format(block.strip())


FILTERS: dict[str, Callable[..., object]] = {
    "md": md,
    "text": text,
    "breakable": breakable,
    "https": https,
    "human_size": human_size,
    "grouped": grouped,
    "status_label": status_label,
    "number": number,
    "strength_text": strength_text,
    "fenced": fenced,
    "unindexed": unindexed,
    "quoted": quoted,
}
"""The filters the templates use, by name."""
