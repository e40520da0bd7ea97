"""Problems found in the data, each pinned to a file, line and column; exit codes; the one error printer."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, TextIO

from generator.text import printable


class ExitCode(IntEnum):
    """Exit status of every stage of ``python -m generator`` (:data:`EXIT_CODE_HELP` says what each means)."""

    OK = 0
    PROBLEMS = 1
    USAGE = 2
    INCOMPLETE = 3
    FILE_ERROR = 4
    INTERRUPTED = 130


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success; check: every link alive",
    ExitCode.PROBLEMS: "data errors; check: dead links; link-issue, snapshot-pr: a git or gh command failed",
    ExitCode.USAGE: "usage error, a data error during check, or an internal error (never 1)",
    ExitCode.INCOMPLETE: "check only: some links could not be verified, none is dead",
    ExitCode.FILE_ERROR: "a file could not be written or read (disk full, read-only folder, no permission): the "
    "message names the file and the cause; check prints and keeps its report first",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the data, printed as `path:line:col: message`.

    Path and message may hold what a data file holds (its name, a key): both are printed through
    :func:`~generator.text.printable`, so no control character or line break reaches a terminal or a CI log.
    """

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{printable(self.path)}:{self.line}:{self.col}: {printable(self.message)}"

    def github(self) -> str:
        """The problem as a GitHub Actions annotation on the file and line (one line, whatever it holds)."""
        return f"::error file={_escape(self.path, True)},line={self.line},col={self.col}::{_escape(self.message)}"


def _escape(value: str, property_value: bool = False) -> str:
    """Workflow-command escaping: line breaks and controls shown as escapes, '%' encoded; ':' and ',' in a property."""
    value = printable(value).replace("%", "%25")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


class DataError(Exception):
    """Raised when the data holds problems; carries all of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__(count_line(len(self.problems)))


def count_line(count: int) -> str:
    """'1 error' or 'N errors'."""
    return f"{count} error" if count == 1 else f"{count} errors"


ProblemFormat = Literal["text", "github"]


def print_problems(
    err: DataError, *, fmt: ProblemFormat = "text", stream: TextIO | None = None, suffix: str = ""
) -> None:
    """Print every problem (as text or GitHub annotations), then the count line (plus ``suffix``)."""
    out = stream or sys.stdout
    for problem in err.problems:
        print(problem.github() if fmt == "github" else str(problem), file=out)
    print(count_line(len(err.problems)) + suffix, file=out)


def file_error(err: OSError, path: object = None) -> str:
    """'data/hub-snapshot.json: No space left on device': the file (the one meant, else the one the system
    names) and the cause, on one printable line."""
    where = path if path is not None else err.filename
    cause = err.strerror or str(err) or type(err).__name__
    return printable(f"{where}: {cause}" if where is not None else cause)
