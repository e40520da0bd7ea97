"""What one check saw of one link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from generator.catalog.snapshot import Status
from generator.text import one_line


@dataclass(frozen=True)
class Finding:
    """What one check saw of one link (times are added by the caller)."""

    status: Status
    size: int | None = None
    sha256: str | None = None
    commit: str | None = None
    gated: Literal["auto", "manual"] | None = None
    new_repo: str | None = None
    new_path: str | None = None
    http_status: int | None = None
    error: str | None = None

    @property
    def verified(self) -> bool:
        """True when the check reached a verdict (anything but ``unverified``)."""
        return self.status != "unverified"


def unverified(error: str, http_status: int | None = None) -> Finding:
    """A finding for a link that could not be checked; the error (often a server's words) made one safe line."""
    return Finding("unverified", http_status=http_status, error=one_line(error))


@dataclass(frozen=True)
class Listing:
    """A repo's files as this run's model_info listed them, each judged on its own (for discovery).

    ``files`` maps each path the catalog can hold to its (size, sha256); ``unsure`` holds such paths listed
    with a size or sha256 not in the Hub's format (present, facts unknown); ``odd`` holds real names the
    catalog cannot hold (an invisible character, more than 1,000 characters …), skipped and reported;
    ``broken`` says why the whole list cannot be trusted (a name no repository can have), when it cannot.
    """

    files: Mapping[str, tuple[int | None, str | None]]
    unsure: frozenset[str] = frozenset()
    odd: frozenset[str] = frozenset()
    broken: str | None = None

    def __contains__(self, path: object) -> bool:
        """True when the path is listed (with known facts or not)."""
        return path in self.files or path in self.unsure
