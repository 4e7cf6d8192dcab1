"""Recognise the format of each input and parse it: the first step of every import.

Each import service lists its formats (:data:`~incidents.importers.streets.STREET_FORMATS`,
:data:`~incidents.importers.works.WORKS_FORMATS`,
:data:`~incidents.importers.districts.DISTRICT_FORMATS`) as :class:`Format`\\ s: how to
recognise one, and the module that parses it. :func:`parse_inputs` detects the format of
every input (or takes the one given), parses it into records and per-record rejections,
and names the source the batch belongs to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from incidents.importers.records import ImportResult, ParsedFile, Progress
from incidents.inputs import InputError, InputFile


@dataclass(frozen=True)
class Format:
    """One input format: how to recognise it (``None``: only when asked for) and how to parse it."""

    detect: Callable[[InputFile], bool] | None
    parse: Callable[..., ParsedFile]


def any_json(input_file: InputFile) -> bool:
    return input_file.looks_like_json


def detect_format(input_file: InputFile, formats: Mapping[str, Format]) -> str:
    """The name of the first format that recognises ``input_file``; raise :class:`InputError` if none does."""
    if input_file.is_empty:
        raise InputError(_("%(name)s: the file is empty.") % {"name": input_file.name})
    for name, fmt in formats.items():
        if fmt.detect is not None and fmt.detect(input_file):
            return name
    raise InputError(
        _("%(name)s: cannot tell the format from the content; give --format (%(formats)s).")
        % {"name": input_file.name, "formats": ", ".join(formats)}
    )


@dataclass
class Batch:
    """The parsed inputs of one import, and the source they belong to."""

    parsed: list[tuple[InputFile, str, ParsedFile]]
    source: str

    @property
    def records(self) -> list:
        return [record for _, _, parsed in self.parsed for record in parsed.records]

    @property
    def snapshots(self) -> list[dt.datetime]:
        return sorted({s for _, _, parsed in self.parsed for s in parsed.snapshots})


def _default_source(input_file: InputFile) -> str:
    if input_file.name == "<stdin>":
        return "stdin"
    # A folder names its files' source; a file its own ("roads.geojson" -> "roads").
    return slugify(Path(input_file.origin or input_file.name).stem)[:64] or "import"


def parse_inputs(
    inputs: Sequence[InputFile],
    formats: Mapping[str, Format],
    format_name: str | None,
    source: str | None,
    field_map: Mapping[str, str] | None,
    progress: Progress,
    **options: Any,
) -> Batch:
    """Detect (or take) the format of each input, parse it, and name the batch's source."""
    if not inputs:
        raise InputError(_("nothing to import: no input given."))
    if format_name is not None and format_name not in formats:
        raise InputError(
            _("unknown format %(format)r; choose one of: %(formats)s.")
            % {"format": format_name, "formats": ", ".join(formats)}
        )
    parsed_files = []
    for input_file in inputs:
        name = format_name or detect_format(input_file, formats)
        parsed = formats[name].parse(input_file, field_map or {}, progress=progress, **options)
        parsed_files.append((input_file, name, parsed))
    if source is None:
        defaults = {parsed.default_source or _default_source(f) for f, _, parsed in parsed_files}
        if len(defaults) > 1:
            raise InputError(
                _(
                    "these inputs belong to different sources (%(sources)s): "
                    "import them separately, or name one source with --source."
                )
                % {"sources": ", ".join(sorted(defaults))}
            )
        source = defaults.pop()
    return Batch(parsed_files, source)


def new_result(kind: str, batch: Batch) -> ImportResult:
    """The result of an import of ``batch``, with what parsing it read, rejected and skipped."""
    result = ImportResult(kind=kind, source=batch.source)
    for input_file, name, parsed in batch.parsed:
        result.formats[input_file.name] = name
        result.read += len(parsed.records) + len(parsed.rejections) + sum(parsed.skipped.values())
        result.rejections.extend(parsed.rejections)
        result.notes.extend(parsed.notes)
        for reason, count in parsed.skipped.items():
            result.skipped[reason] = result.skipped.get(reason, 0) + count
    return result
