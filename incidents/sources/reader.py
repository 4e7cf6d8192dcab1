"""
Open what ``ingest_posts`` is given — a file, a folder or standard input — and parse it.

The format is detected when not given: ``.csv``/``.tsv`` files and text that does not
start with ``{`` or ``[`` are CSV; JSON is an X API v2 response when it has ``data``, a
Mastodon status when it has ``content`` and ``account`` (or a search result with
``statuses``, a notification), Bluesky when it is a post view with an ``at://`` URI
(or a response with ``posts``, ``feed``, ``notifications`` or ``thread``), else JSON
lines with the documented column set.
"""

from __future__ import annotations

import codecs
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import bluesky, columns, csvfile, mastodon, x
from .jsonfile import Document, documents
from .parsing import ParsedItem, SourceError, default_source

JSON_FORMATS = {x.FORMAT: x, mastodon.FORMAT: mastodon, bluesky.FORMAT: bluesky, "jsonl": columns}
FORMATS = (x.FORMAT, mastodon.FORMAT, bluesky.FORMAT, csvfile.FORMAT, "jsonl")
CSV_SUFFIXES = frozenset({".csv", ".tsv"})
INPUT_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv", ".tsv"})
# Enough to catch a file in the wrong encoding before anything is stored.
ENCODING_PROBE_BYTES = 1 << 16


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
    root = Path(path)
    if not root.exists():
        raise SourceError(f"{path} does not exist")
    if not root.is_dir():
        return [root]
    files = sorted(
        file
        for file in root.rglob("*")
        if file.is_file()
        and file.suffix.lower() in INPUT_SUFFIXES
        and not any(part.startswith(".") for part in file.relative_to(root).parts)
    )
    if not files:
        raise SourceError(f"{path} holds no {', '.join(sorted(INPUT_SUFFIXES))} file")
    return files


def check_format(format: str | None) -> None:
    if format is not None and format not in FORMATS:
        raise SourceError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def open_stdin(*, format: str | None = None, source: str | None = None, stdin: TextIO | None = None) -> Input:
    """Parse standard input (or ``stdin``), detecting its format when not given."""
    check_format(format)
    return parse_lines("stdin", stdin or sys.stdin, format=format, source=source)


def open_file(file: Path, *, format: str | None = None, source: str | None = None, encoding: str = "utf-8") -> Input:
    """Open one file after checking that its start decodes with ``encoding``; detect its format when not given."""
    check_format(format)
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None
    with file.open("rb") as probe:
        head = probe.read(ENCODING_PROBE_BYTES)
    try:
        codecs.getincrementaldecoder(codec.name)().decode(head, final=False)
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{file} is not {encoding} text (byte {error.start}: {error.reason}); spreadsheets often save "
            "Windows-1252: pass --encoding cp1252, or convert with iconv -f cp1252 -t utf-8"
        ) from None
    if format is None and file.suffix.lower() in CSV_SUFFIXES:
        format = csvfile.FORMAT
    # utf-8-sig drops the byte-order mark spreadsheets write; bytes broken later in the
    # file become U+FFFD in that post rather than stopping the whole file.
    stream = file.open(encoding="utf-8-sig" if codec.name == "utf-8" else encoding, errors="replace", newline="")
    return parse_lines(str(file), _closing(stream), format=format, source=source)


def _closing(stream: TextIO) -> Iterator[str]:
    with stream:
        yield from stream


def parse_lines(label: str, lines: Any, *, format: str | None, source: str | None) -> Input:
    """Detect the format of ``lines`` when not given and return its lazily parsed items."""
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
        return Input(label, format, csvfile.read(lines, source=default_source(format, source)))

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
        raise SourceError(f"--format {format} was given, but the first document looks like {detected}")
    module = JSON_FORMATS[format]
    return Input(label, format, _items(itertools.chain(first, docs), module, default_source(format, source)))


def _items(docs: Iterator[Document], module: Any, source: str) -> Iterator[ParsedItem]:
    for document in docs:
        if document.error:
            yield ParsedItem.rejected(document.position, document.error)
        else:
            yield from module.parse_document(document.value, position=document.position, source=source)
