"""Split a JSON file into documents: one JSON value, or JSON lines (one value per line).

A top-level array is split into its elements, so a file may hold one object, an array
of objects, or one object or array per line. A broken line is reported on its own and
the other lines still count; a file that is not JSON at all raises :class:`InputError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from incidents.inputs import InputError


@dataclass(slots=True)
class Document:
    position: str
    value: Any = None
    error: str = ""


def _loads(text: str) -> Any:
    """``json.loads``, with JSON nested deeper than Python can follow reported as a decoding error."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def _split(position: str, value: Any) -> Iterator[Document]:
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield Document(f"{position} [{index}]".strip(), element)
    else:
        yield Document(position, value)


def _lines(lines: Iterator[tuple[int, str]]) -> Iterator[Document]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as error:
            yield Document(f"line {number}", error=f"invalid JSON: {error.msg} (column {error.colno})")
        else:
            yield from _split(f"line {number}", value)


def documents(lines: Iterator[str]) -> Iterator[Document]:
    """Yield the JSON documents of ``lines`` with their position ("line 3", "[12]", "line 3 [0]")."""
    lines = iter(lines)
    first_number, first = 0, ""
    for first_number, first in enumerate(lines, start=1):  # noqa: B007 (used after the loop)
        if first.strip():
            break
    else:
        return
    try:
        value = _loads(first)
    except json.JSONDecodeError:
        pass
    else:
        # JSON lines (or a one-line file): stream the rest line by line.
        yield from _split(f"line {first_number}", value)
        yield from _lines(enumerate(lines, start=first_number + 1))
        return

    # A document over several lines (pretty-printed), or JSON lines whose first line is broken.
    whole = first + "".join(lines)
    try:
        value = _loads(whole)
    except json.JSONDecodeError as error:
        if not first.lstrip().startswith(("{", "[")):
            raise InputError(
                f"this is not JSON (it starts with {first.strip()[:30]!r}); "
                "use --format csv for CSV files, or check the file"
            ) from None
        lines = list(enumerate(whole.splitlines(), start=first_number))
        if not any(_is_json(line) for _, line in lines[1:]):
            raise InputError(
                f"invalid JSON: {error.msg} at line {error.lineno + first_number - 1}, column {error.colno}"
            ) from None
        yield from _lines(iter(lines))
        return
    yield from _split("", value)


def _is_json(line: str) -> bool:
    try:
        _loads(line)
    except json.JSONDecodeError:
        return False
    return bool(line.strip())
