"""What one check saw of one link."""

from __future__ import annotations

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
