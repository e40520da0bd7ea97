"""Read YAML files into plain Python data, remembering where every key and value stands (for `validate`).

PyYAML composes a node tree carrying source marks; we build the data from that tree ourselves so that
duplicate keys, aliases and tags other than the core schema's (!!binary, !!set, !custom …) become errors
with a line and column instead of surprises.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import Problem
from generator.text import character_name

_YAML_TAG = "tag:yaml.org,2002:"
_STR = _YAML_TAG + "str"
_MAP, _SEQ = _YAML_TAG + "map", _YAML_TAG + "seq"
_VALUE = _YAML_TAG + "value"  # what PyYAML resolves a plain '=' to: the text '=' in a data file
# the core schema's scalars; any other tag (!!binary makes bytes, !!set, !!omap, !!pairs, !custom) is refused
SCALAR_TAGS = frozenset(_YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
MAX_BYTES = 1_000_000  # a data file is a few hundred bytes; refuse anything absurd before reading it
MAX_DEPTH = 20  # the deepest data file needs 5 levels
# a link is not followed; opening a FIFO does not wait for a writer (fstat then refuses it)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
Loc = tuple[str | int, ...]
Pos = tuple[int, int]


@dataclass
class Document:
    """The data of one YAML file plus the 1-based (line, column) of each value and mapping key."""

    path: str
    data: Any
    values: dict[Loc, Pos] = field(default_factory=dict)
    keys: dict[Loc, Pos] = field(default_factory=dict)


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses aliases (no billion laughs) and records why."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.aliases: list[Pos] = []

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            self.aliases.append(_pos(event.start_mark))
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


def _offset_pos(text: str, offset: int) -> Pos:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _pos(mark: yaml.Mark | None) -> Pos:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def read_document(file: Path, display: str) -> tuple[Document | None, list[Problem]]:
    """Read one data file: its document (None if unreadable) and every problem found.

    A document is still returned after problems that leave its structure readable (duplicate keys,
    aliases), so that the remaining fields are validated in the same run.
    """
    raw, problem = _read_bytes(file, display)
    text, problem = _decode(raw, display) if problem is None else ("", problem)
    if problem is not None:
        return None, [problem]
    problems = _tab_problems(text, display)
    if problems:
        return None, problems
    return _parse(text, display)


def not_regular(display: str, *, symlink: bool) -> Problem:
    """The problem of a data path that is a symbolic link or a special file (never followed, never read)."""
    if symlink:
        return Problem(display, 1, 1, "symbolic links are not allowed in data/; put the file itself here")
    return Problem(display, 1, 1, "not a regular file; data/ holds plain files and folders only")


def _read_bytes(file: Path, display: str) -> tuple[bytes, Problem | None]:
    """The file's bytes, at most MAX_BYTES of them: its size is known before reading, links are not followed."""
    try:
        handle = os.open(file, _OPEN_FLAGS)
    except OSError as err:
        if file.is_symlink():
            return b"", not_regular(display, symlink=True)
        return b"", Problem(display, 1, 1, f"cannot read the file: {err.strerror}")
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return b"", not_regular(display, symlink=False)
        raw = stream.read(MAX_BYTES + 1) if info.st_size <= MAX_BYTES else b""
    if info.st_size > MAX_BYTES or len(raw) > MAX_BYTES:
        return b"", Problem(display, 1, 1, f"file is larger than {MAX_BYTES:,} bytes")
    return raw, None


def _decode(raw: bytes, display: str) -> tuple[str, Problem | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        start = err.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        before = raw[: err.start].decode("utf-8-sig", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        byte = raw[start : start + 1].hex() if start < len(raw) else "??"
        return "", Problem(display, line, col, f"invalid UTF-8 (byte 0x{byte}); save the file as UTF-8")


_LEADING_TAB = re.compile(r"^[ ]*\t")


def _tab_problems(text: str, display: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LEADING_TAB.match(line)
        if match and line.strip():
            problems.append(
                Problem(display, number, match.end(), "tab used for indentation; indent with spaces")
            )
    return problems


def _loader_for(text: str) -> _Loader | yaml.CSafeLoader:
    """libyaml's fast parser when the text cannot hold an alias; our alias-refusing loader otherwise."""
    if "*" in text or not yaml.__with_libyaml__:
        return _Loader(text)
    return yaml.CSafeLoader(text)


def _parse(text: str, display: str) -> tuple[Document | None, list[Problem]]:
    loader = _loader_for(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        line, col = _pos(err.problem_mark or err.context_mark)
        return None, [Problem(display, line, col, f"YAML syntax error: {err.problem or err.context}")]
    except yaml.reader.ReaderError as err:  # a control character the YAML reader refuses
        line, col = _offset_pos(text, err.position)
        char = chr(err.character) if isinstance(err.character, int) else err.character
        message = f"control character {character_name(char)} is not allowed; remove it"
        return None, [Problem(display, line, col, message)]
    except RecursionError:
        return None, [Problem(display, 1, 1, "the file is nested too deeply to be a data file")]
    finally:
        loader.dispose()
    problems = _alias_problems(loader.aliases if isinstance(loader, _Loader) else [], display)
    if node is None:
        return None, [*problems, Problem(display, 1, 1, "file is empty; it should hold a mapping of fields")]
    if not isinstance(node, MappingNode):
        line, col = _pos(node.start_mark)
        return None, [
            *problems,
            Problem(display, line, col, "the file should hold a mapping of fields (key: value)"),
        ]
    doc = Document(display, None)
    doc.data = _build(node, (), doc, loader, problems)
    return doc, problems


def _alias_problems(aliases: list[Pos], display: str) -> list[Problem]:
    """One problem per file for aliases, at the first one: a billion-laughs file gives one line, not millions."""
    if not aliases:
        return []
    count = f" ({len(aliases)} aliases in this file)" if len(aliases) > 1 else ""
    line, col = aliases[0]
    return [
        Problem(
            display,
            line,
            col,
            f"YAML aliases (*name) are not allowed in data files; write the value out{count}",
        )
    ]


def _build(node: Node, loc: Loc, doc: Document, loader: SafeConstructor, problems: list[Problem]) -> Any:
    doc.values[loc] = _pos(node.start_mark)
    if len(loc) > MAX_DEPTH:
        problems.append(Problem(doc.path, *doc.values[loc], f"nested more than {MAX_DEPTH} levels deep"))
        return None
    if (problem := _tag_problem(node, doc.path)) is not None:
        problems.append(problem)
        return None
    if node.tag == _VALUE:
        return node.value
    if isinstance(node, MappingNode):
        return _build_mapping(node, loc, doc, loader, problems)
    if isinstance(node, SequenceNode):
        return [_build(item, (*loc, i), doc, loader, problems) for i, item in enumerate(node.value)]
    if node.tag == _STR:
        return node.value  # the common case, without the constructor's bookkeeping
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        return node.value  # e.g. 2026-02-30 looks like a date but is none: let validation say so
    except yaml.MarkedYAMLError as err:
        line, col = _pos(err.problem_mark or node.start_mark)
        problems.append(Problem(doc.path, line, col, f"cannot read this value: {err.problem}"))
        return None


def _tag_problem(node: Node, display: str) -> Problem | None:
    """A problem for a node whose tag is not one of the core schema's: no bytes, sets or custom objects."""
    if isinstance(node, MappingNode):
        allowed = node.tag == _MAP
    elif isinstance(node, SequenceNode):
        allowed = node.tag == _SEQ
    else:
        allowed = node.tag in SCALAR_TAGS or node.tag == _VALUE
    if allowed:
        return None
    tag = node.tag
    shown = "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag
    shown = shown if shown.startswith("!") else f"!<{shown}>"
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    if tag in SCALAR_TAGS:  # e.g. !!str on a list
        kind = "mapping" if isinstance(node, MappingNode) else "list"
        return Problem(
            display, *_pos(node.start_mark), f"the YAML tag {shown} cannot mark a {kind}; remove it"
        )
    message = f"the YAML tag {shown} is not allowed in data files; write the value without a tag"
    return Problem(display, *_pos(node.start_mark), message)


def _build_mapping(
    node: MappingNode, loc: Loc, doc: Document, loader: SafeConstructor, problems: list[Problem]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line, col = _pos(key_node.start_mark)
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            problems.append(
                Problem(doc.path, line, col, "keys must be plain names (no merge keys or complex keys)")
            )
            continue
        if (problem := _tag_problem(key_node, doc.path)) is not None:
            problems.append(problem)
            continue
        key = str(key_node.value)
        if key in result:
            first = doc.keys[(*loc, key)]
            problems.append(
                Problem(doc.path, line, col, f"duplicate key '{key}' (first defined on line {first[0]})")
            )
            continue
        doc.keys[(*loc, key)] = (line, col)
        result[key] = _build(value_node, (*loc, key), doc, loader, problems)
    return result
