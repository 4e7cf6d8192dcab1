"""
Open what ``ingest_posts`` is given — a file, a folder or standard input — and parse it.

Paths, folders and encodings are read through the input layer (:mod:`incidents.inputs`),
as city data is; a whole file that cannot be read raises its
:class:`~incidents.inputs.InputError`, named after the file.

The format is detected when not given: ``.csv``/``.tsv`` files and text that does not
start with ``{`` or ``[`` are CSV; JSON is an X API v2 response when it has ``data``, a
Mastodon status when it has ``content`` and ``account`` (or a search result with
``statuses``, a notification), Bluesky when it is a post view with an ``at://`` URI
(or a response with ``posts``, ``feed``, ``notifications`` or ``thread``), else JSON
lines with the documented column set.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from incidents.inputs import InputError, input_paths, open_text

from . import bluesky, columns, csvfile, mastodon, x
from .jsonfile import Document, documents
from .parsing import ParsedItem, default_source

JSON_FORMATS = {x.FORMAT: x, mastodon.FORMAT: mastodon, bluesky.FORMAT: bluesky, "jsonl": columns}
FORMATS = (x.FORMAT, mastodon.FORMAT, bluesky.FORMAT, csvfile.FORMAT, "jsonl")
CSV_SUFFIXES = frozenset({".csv", ".tsv"})
INPUT_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".tsv")


@dataclass(slots=True)
class Input:
    """One file (or the standard input): its name, its format and its parsed items, read lazily."""

    label: str
    format: str
    items: Iterator[ParsedItem]


def sniff_document(value: Any) -> str:
    """Name the JSON format ``value`` (the first document of a file) belongs to."""
    if isinstance(value, dict):
        if "data" in value or "includes" in value:
            return x.FORMAT
        if mastodon.looks_like(value):
            return mastodon.FORMAT
        if bluesky.looks_like(value):
            return bluesky.FORMAT
    return "jsonl"


def input_files(path: str) -> list[Path]:
    """The files to read under ``path``: the file itself, or a folder's input files, recursively, in name order."""
    return input_paths(path, INPUT_SUFFIXES, recursive=True)


def check_format(format: str | None) -> None:
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def open_stdin(*, format: str | None = None, source: str | None = None, stdin: TextIO | None = None) -> Input:
    """Parse standard input (or ``stdin``), detecting its format when not given."""
    check_format(format)
    return parse_lines("stdin", stdin or sys.stdin, format=format, source=source)


def open_file(
    file: Path, *, format: str | None = None, source: str | None = None, encoding: str | None = None
) -> Input:
    """Open one file once its start decodes (its byte-order mark, or ``encoding``, or UTF-8); detect its format."""
    check_format(format)
    lines = open_text(file, encoding)
    if format is None and file.suffix.lower() in CSV_SUFFIXES:
        format = csvfile.FORMAT
    return parse_lines(str(file), lines, format=format, source=source)


def parse_lines(label: str, lines: Any, *, format: str | None, source: str | None) -> Input:
    """Detect the format of ``lines`` when not given and return its lazily parsed items.

    An :class:`InputError` raised while reading, now or later, names ``label``.
    """
    try:
        format, items = _parse(lines, format=format, source=source)
    except InputError as error:
        raise InputError(f"{label}: {error}") from None
    return Input(label, format, _named(label, items))


def _named(label: str, items: Iterator[ParsedItem]) -> Iterator[ParsedItem]:
    try:
        yield from items
    except InputError as error:
        raise InputError(f"{label}: {error}") from None


def _parse(lines: Any, *, format: str | None, source: str | None) -> tuple[str, Iterator[ParsedItem]]:
    lines = iter(lines)
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    lines = itertools.chain(head, lines)
    if format is None and head and not head[-1].lstrip().startswith(("{", "[")):
        format = csvfile.FORMAT
    if format == csvfile.FORMAT:
        return format, csvfile.read(lines, source=default_source(format, source))

    docs = documents(lines)
    first: list[Document] = []
    for document in docs:
        first.append(document)
        if not document.error:
            break
    detected = sniff_document(first[-1].value) if first and not first[-1].error else (format or "jsonl")
    if format is None:
        format = detected
    elif detected != format and (format != "jsonl" or detected in (x.FORMAT, mastodon.FORMAT, bluesky.FORMAT)):
        raise InputError(f"--format {format} was given, but the first document looks like {detected}")
    module = JSON_FORMATS[format]
    return format, _items(itertools.chain(first, docs), module, default_source(format, source))


def _items(docs: Iterator[Document], module: Any, source: str) -> Iterator[ParsedItem]:
    for document in docs:
        if document.error:
            yield ParsedItem.rejected(document.position, document.error)
        else:
            yield from module.parse_document(document.value, position=document.position, source=source)
