"""The one input layer: how posts and city data enter, and what is wrong with them.

Both ``ingest_posts`` (posts, :mod:`incidents.sources`) and the import commands (streets,
works, districts, :mod:`incidents.importers`) read their inputs here:

* **Paths.** A file, a folder (its input files, in name order; posts read sub-folders too)
  or ``-`` for standard input (:func:`input_paths`, :func:`read_inputs`).
* **Encodings.** A byte-order mark says UTF-8 or UTF-16 and is dropped; without one the
  text is UTF-8, or the encoding the caller names (``--encoding cp1252`` for the
  Windows-1252 files spreadsheets save). Text that is not what it claims is refused with
  the byte where it breaks and how to fix it (:func:`open_text`, :class:`InputFile`).
* **Errors.** :class:`InputError`: a whole input cannot be read, and nothing of it is
  used; its message names the input. :class:`RecordError`: one record is wrong, the
  others go on; its message names the field and the value.
* **Dates.** :func:`parse_datetime`: ISO 8601 for everyone, naive times in the city's
  time zone (``TIME_ZONE``), days as the city lives them.
* **Storable text.** :func:`clean_text` and :func:`storable_json` remove what PostgreSQL
  refuses (NUL, lone surrogates), so one bad character never fails a whole batch.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.dateparse import parse_datetime as parse_iso_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Enough to catch a posts file in the wrong encoding before anything is stored.
ENCODING_PROBE_BYTES = 1 << 16
# Byte-order marks and the encoding of what follows them. (UTF-32 marks start like UTF-16
# ones: such a file is read as UTF-16 and refused where it fails to decode.)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# OSM PBF files start with a BlobHeader whose type is "OSMHeader".
_PBF_MARKER = b"OSMHeader"
# Characters PostgreSQL refuses in text (NUL) or that no human writes (other C0 controls),
# and UTF-16 halves left unpaired by a broken encoder (they cannot be stored as UTF-8).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class InputError(Exception):
    """A whole input cannot be read (missing, undecodable, malformed, unknown format): nothing of it is used.

    The message names the input and says what is wrong and how to fix it.
    """


class RecordError(ValueError):
    """One record (a post, a street segment, a works zone) cannot be used; the others go on.

    The message names the field and the bad value; it is shown to the user with the
    record's position.
    """


# --- paths -------------------------------------------------------------------------------


def input_paths(path: str, suffixes: Iterable[str], *, recursive: bool = False) -> list[Path]:
    """The files to read for ``path``: the file itself, or a folder's files ending in ``suffixes``.

    A folder's files come in name order, hidden ones (``.name``) left out; with
    ``recursive`` its sub-folders are read too. Raise :class:`InputError` when ``path``
    does not exist or a folder holds no such file.
    """
    suffixes = tuple(suffix.lower() for suffix in suffixes)
    root = Path(path)
    if not root.exists():
        raise InputError(_("%(path)s: no such file or folder.") % {"path": path})
    if not root.is_dir():
        return [root]
    candidates = root.rglob("*") if recursive else root.iterdir()
    files = sorted(
        file
        for file in candidates
        if file.is_file()
        and file.name.lower().endswith(suffixes)
        and not any(part.startswith(".") for part in file.relative_to(root).parts)
    )
    if not files:
        raise InputError(
            _("%(path)s: the folder holds no %(suffixes)s file.") % {"path": path, "suffixes": ", ".join(suffixes)}
        )
    return files


# --- encodings ---------------------------------------------------------------------------


def check_encoding(encoding: str | None) -> str | None:
    """``encoding`` as Python names it (``None``: UTF-8 unless a byte-order mark says otherwise)."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(
            _("unknown encoding %(encoding)r; use e.g. utf-8, cp1252 or latin-1.") % {"encoding": encoding}
        ) from None


def sniff_encoding(head: bytes, encoding: str | None) -> tuple[str, int]:
    """The encoding of data starting with ``head``, and the length of its byte-order mark.

    A byte-order mark decides; without one the data is ``encoding``, UTF-8 by default.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return encoding or "utf-8", 0


def _encoding_error(name: str, encoding: str, error: UnicodeDecodeError) -> InputError:
    shown = "UTF-8" if encoding == "utf-8" else encoding
    return InputError(
        _(
            "%(name)s: not %(encoding)s text (byte %(byte)s: %(reason)s); spreadsheets and older tools often save "
            "Windows-1252: pass --encoding cp1252, or convert the file with iconv -f cp1252 -t utf-8."
        )
        % {"name": name, "encoding": shown, "byte": error.start, "reason": error.reason}
    )


def open_text(file: Path, encoding: str | None = None) -> Iterator[str]:
    """The lines of a text file, read lazily, once its start is known to decode.

    The first 64 KiB must decode (a file in the wrong encoding is refused before any of
    it is used); bytes broken further on become U+FFFD in their line rather than stopping
    the whole file. The byte-order mark, if any, is not part of the text.
    """
    with file.open("rb") as probe:
        head = probe.read(ENCODING_PROBE_BYTES)
    codec, bom = sniff_encoding(head, check_encoding(encoding))
    try:
        codecs.getincrementaldecoder(codec)().decode(head[bom:], final=False)
    except UnicodeDecodeError as error:
        error.start += bom
        raise _encoding_error(str(file), codec, error) from None
    return _lines(file, codec, bom)


def _lines(file: Path, codec: str, bom: int) -> Iterator[str]:
    with file.open("rb") as raw:
        raw.seek(bom)
        # newline="" leaves the line breaks inside quoted CSV fields alone.
        yield from io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="")


@dataclass
class InputFile:
    """The bytes of one whole input (UTF-8 once its byte-order mark is read) and the name to report against."""

    name: str
    data: bytes
    # The path the user gave (the folder, for a file read from a folder).
    origin: str = ""
    # The encoding of text without a byte-order mark (None: UTF-8).
    encoding: str | None = None
    _json: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        codec, bom = sniff_encoding(self.data[:4], None)
        if not bom:
            return
        # A mark (Windows tools write one) would hide the JSON or XML behind it; what
        # follows it is kept as UTF-8, the one encoding the format readers need.
        data = self.data[bom:]
        if codec != "utf-8":
            try:
                data = data.decode(codec).encode("utf-8")
            except UnicodeDecodeError as error:
                raise _encoding_error(self.name, codec, error) from None
        self.data, self.encoding = data, None

    @property
    def is_empty(self) -> bool:
        return not self.data.strip()

    @property
    def looks_like_xml(self) -> bool:
        return self.data.lstrip()[:1] == b"<"

    @property
    def looks_like_pbf(self) -> bool:
        return _PBF_MARKER in self.data[:64]

    @property
    def looks_like_json(self) -> bool:
        return self.data.lstrip()[:1] in (b"{", b"[")

    def text(self) -> str:
        """The input as text; raise :class:`InputError` saying where it does not decode."""
        encoding = self.encoding or "utf-8"
        try:
            return self.data.decode(encoding)
        except UnicodeDecodeError as error:
            raise _encoding_error(self.name, encoding, error) from None

    def json(self) -> Any:
        """The parsed JSON document; raise :class:`InputError` saying where it is malformed."""
        if self._json is None:
            try:
                self._json = json.loads(self.text())
            except RecursionError:
                raise InputError(
                    _("%(name)s: malformed JSON: nested too deeply to be GeoJSON") % {"name": self.name}
                ) from None
            except json.JSONDecodeError as error:
                raise InputError(
                    _("%(name)s: malformed JSON at line %(line)s, column %(column)s: %(message)s")
                    % {"name": self.name, "line": error.lineno, "column": error.colno, "message": error.msg}
                ) from None
        return self._json


# Files a folder of city data gives; anything else in the folder is ignored.
CITY_DATA_SUFFIXES = (".geojson", ".json", ".osm", ".pbf")


def read_inputs(path: str, stdin: BinaryIO | None = None, *, encoding: str | None = None) -> list[InputFile]:
    """Read ``path`` whole: a file, a folder (its city data files, by name) or ``-`` for standard input."""
    encoding = check_encoding(encoding)
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return [InputFile("<stdin>", stream.read(), encoding=encoding)]
    inputs = []
    for file in input_paths(path, CITY_DATA_SUFFIXES):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise InputError(
                _("%(path)s: cannot be read (%(reason)s).") % {"path": file, "reason": error.strerror}
            ) from None
        inputs.append(InputFile(str(file), data, origin=path, encoding=encoding))
    return inputs


def read_paths(paths: list[str], stdin: BinaryIO | None = None, *, encoding: str | None = None) -> list[InputFile]:
    """Read several paths (see :func:`read_inputs`) into one list of inputs."""
    return [input_file for path in paths for input_file in read_inputs(path, stdin, encoding=encoding)]


# --- dates -------------------------------------------------------------------------------

_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_UTC_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?(?:Z|\+00:00)$")
_ISO_FORMS = gettext_lazy("ISO 8601, e.g. 2014-09-08T09:30:00+02:00")
_ALL_FORMS = gettext_lazy("ISO 8601, e.g. 2014-09-08T09:30:00+02:00 or 2014-09-08, YYYYMMDD or DD/MM/YYYY")


def local_timezone() -> dt.tzinfo:
    """The city's time zone (``TIME_ZONE``, Europe/Paris by default): naive times in files are in it."""
    return timezone.get_default_timezone()


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_timezone())


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in the city: works announced "until the 21st" run through the 21st."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=local_timezone())


def parse_datetime(
    value: Any, *, label: str, end: bool = False, day_first: bool = False, utc_midnight_is_a_day: bool = False
) -> dt.datetime | None:
    """Return ``value`` as an aware datetime, or ``None`` when it is empty.

    Read ISO 8601 date-times, with or without an offset (naive times are in the city's
    time zone), and bare days (``YYYY-MM-DD``, ``YYYYMMDD``): a day is the start of that
    local day, or its last instant when ``end`` is true (works announced "until the
    21st" run through the 21st). ``day_first`` also reads French dates,
    ``DD/MM/YYYY[ HH:MM[:SS]]``. ``utc_midnight_is_a_day`` reads UTC midnight
    (``2026-08-03T00:00:00+00:00``) as the calendar day it stands for, as Opendatasoft
    serves dates. Raise :class:`RecordError` naming ``label`` when the value cannot be
    read, names no real day, or has no UTC equivalent (year 1 or 9999 at the edges).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(_("%(label)s: %(value)r is not a date-time") % {"label": label, "value": value})
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = end_of_day(value) if end else start_of_day(value)
    else:
        text = clean_text(value).strip()
        if not text:
            return None
        moment = _parse_text(text, label=label, end=end, day_first=day_first, utc_days=utc_midnight_is_a_day)
        value = text
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, local_timezone())
    try:
        # Stored and compared in UTC: 0001-01-01T00:00+14:00 has no UTC equivalent.
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise RecordError(
            _("%(label)s: %(value)r is out of range") % {"label": label, "value": str(value)[:60]}
        ) from None
    return moment


def _parse_text(text: str, *, label: str, end: bool, day_first: bool, utc_days: bool) -> dt.datetime:
    if utc_days and (utc_midnight := _UTC_MIDNIGHT.match(text)):
        text = utc_midnight.group(1)
    day_match = _ISO_DATE.match(text) or _COMPACT_DATE.match(text)
    time_parts: tuple[str | None, ...] = ()
    if day_match:
        year, month, day = day_match.groups()
    elif day_first and (french := _DAY_FIRST.match(text)):
        day, month, year, *time_parts = french.groups()
    else:
        try:
            moment = parse_iso_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            forms = _ALL_FORMS if day_first else _ISO_FORMS
            raise RecordError(
                _("%(label)s: %(value)r is not a date-time; use %(forms)s")
                % {"label": label, "value": text[:60], "forms": forms}
            )
        return moment
    try:
        date = dt.date(int(year), int(month), int(day))
        if time_parts and time_parts[0] is not None:
            hour, minute, second = time_parts
            return dt.datetime.combine(date, dt.time(int(hour), int(minute), int(second or 0)))
    except ValueError:
        raise RecordError(
            _("%(label)s: %(value)r is not a date (no such day)") % {"label": label, "value": text}
        ) from None
    return end_of_day(date) if end else start_of_day(date)


# --- storable text -------------------------------------------------------------------------


def clean_text(value: Any) -> str:
    """Return ``value`` as text PostgreSQL can store: no NUL, no control characters, no lone surrogates."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNSTORABLE.search(text):
        text = _UNSTORABLE.sub("", text)
    return text


def storable_json(payload: Any) -> Any:
    """Return ``payload`` with every string storable in JSONB (no NUL, no lone surrogates, no NaN)."""
    if isinstance(payload, str):
        return clean_text(payload)
    if isinstance(payload, dict):
        return {clean_text(key): storable_json(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [storable_json(value) for value in payload]
    if isinstance(payload, float) and not math.isfinite(payload):
        return None
    return payload
