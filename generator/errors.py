"""Problems found in the data, each pinned to a file, line and column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the data, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    def github(self) -> str:
        """The problem as a GitHub Actions annotation on the file and line."""
        return f"::error file={_escape(self.path, True)},line={self.line},col={self.col}::{_escape(self.message)}"


def _escape(value: str, property_value: bool = False) -> str:
    """Workflow-command escaping: %, CR, LF always; ':' and ',' too inside a property."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


class DataError(Exception):
    """Raised when the data holds problems; carries all of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__(count_line(len(self.problems)))


def count_line(count: int) -> str:
    """'1 error' or 'N errors'."""
    return f"{count} error" if count == 1 else f"{count} errors"
