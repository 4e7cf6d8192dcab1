"""
What every source parser shares: per-item results and field checks.

A parser never stops on one bad post. Each input item becomes a :class:`ParsedItem`:
either a :class:`PostRecord` ready to store, or a rejection that says where the item was
and what is wrong with it (a :class:`~incidents.inputs.RecordError` raised by a field
check). Only input that cannot be read at all (not JSON, a CSV without the required
columns, undecodable bytes) raises :class:`~incidents.inputs.InputError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from incidents.geo import is_null_island
from incidents.inputs import RecordError, clean_text, parse_datetime, storable_json

from .record import PostRecord

# Column widths of the Post model: longer values would make the whole batch fail in SQL.
MAX_SOURCE = 32
MAX_ID = 255
MAX_URL = 1000
MAX_HANDLE = 255
MAX_LANGUAGE = 16
MAX_PLACE = 255
MAX_COUNT = 2**31 - 1
# A post dated further ahead than this comes from a wrong clock or a wrong column.
FUTURE_TOLERANCE = dt.timedelta(days=1)

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(slots=True)
class ParsedItem:
    """One input item: a record to store, or the reason it was rejected.

    ``position`` says where the item was ("line 12", "row 5", "line 3 data[4]").
    ``embedded`` holds other posts carried along with the item (the original of a
    retweet in ``includes.tweets``, a boosted Mastodon status): they are stored too.
    """

    position: str
    record: PostRecord | None = None
    error: str = ""
    external_id: str = ""
    embedded: tuple[PostRecord, ...] = ()

    @classmethod
    def rejected(cls, position: str, error: str, external_id: str = "") -> ParsedItem:
        return cls(position=position, error=error, external_id=external_id)

    @property
    def ok(self) -> bool:
        return self.record is not None


def source_name(value: str) -> str:
    """Return ``value`` as a source name, or raise :class:`RecordError` if it cannot be one."""
    name = str(value).strip().lower()
    if not name or len(name) > MAX_SOURCE or not _SOURCE_NAME.match(name):
        raise RecordError(
            f"source {value!r} is not a valid source name "
            f"(lower-case letters, digits, '-', '_' or '.', at most {MAX_SOURCE} characters)"
        )
    return name


def text_field(value: Any, name: str, *, max_length: int | None = None, required: bool = False) -> str:
    """Return a stripped, storable string; raise :class:`RecordError` when required and empty or too long."""
    if isinstance(value, dict | list):
        raise RecordError(f"{name}: expected text, got {type(value).__name__}")
    text = clean_text(value).strip()
    if required and not text:
        raise RecordError(f"{name} is missing or empty")
    if max_length is not None and len(text) > max_length:
        raise RecordError(f"{name} is {len(text)} characters long; at most {max_length} are allowed")
    return text


def identifier(value: Any, name: str = "id") -> str:
    """Return an external id: required, at most 255 characters, numbers accepted as written."""
    if isinstance(value, bool):
        raise RecordError(f"{name}: {value!r} is not an identifier")
    if isinstance(value, float) and value.is_integer():
        # JSON exports sometimes turn numeric ids into floats; 12.0 means 12.
        value = int(value)
    return text_field(value, name, max_length=MAX_ID, required=True)


def optional_text(value: Any, max_length: int) -> str:
    """Return a storable string, or ``""`` when it is too long to be meaningful (a URL of 5,000 characters)."""
    text = clean_text(value).strip()
    return text if len(text) <= max_length else ""


def http_url(value: Any) -> str:
    """Return ``value`` when it is an http(s) URL short enough to store, else ``""``."""
    url = optional_text(value, MAX_URL)
    return url if url.startswith(("https://", "http://")) and " " not in url else ""


def aware_datetime(value: Any, name: str = "posted_at") -> dt.datetime:
    """Read when a post was made: ISO 8601 (see :func:`incidents.inputs.parse_datetime`) or epoch seconds.

    Required, and not in the future: a post dated ahead comes from a wrong clock or column.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise RecordError(f"{name}: {value!r} is not a date-time")
        try:
            value = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise RecordError(f"{name}: {value!r} is not a plausible epoch time in seconds") from None
    moment = parse_datetime(value, label=name)
    if moment is None:
        raise RecordError(f"{name} is missing")
    if moment > timezone.now() + FUTURE_TOLERANCE:
        raise RecordError(f"{name}: {moment.isoformat()} is in the future")
    return moment


def number(value: Any, name: str, *, decimal_comma: bool = False) -> float:
    """Parse a finite number; ``decimal_comma`` accepts French spreadsheets' "1,4440"."""
    if isinstance(value, bool):
        raise RecordError(f"{name}: {value!r} is not a number")
    if isinstance(value, int | float):
        result = float(value)
    else:
        text = clean_text(value).strip()
        if decimal_comma and "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            result = float(text)
        except ValueError:
            raise RecordError(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(result):
        raise RecordError(f"{name}: {value!r} is not a finite number")
    return result


def coordinates(lon: Any, lat: Any, *, decimal_comma: bool = False) -> tuple[float, float] | None:
    """Return WGS84 ``(lon, lat)``, ``None`` when both are absent; raise :class:`RecordError` when wrong."""
    lon_missing = lon is None or (isinstance(lon, str) and not lon.strip())
    lat_missing = lat is None or (isinstance(lat, str) and not lat.strip())
    if lon_missing and lat_missing:
        return None
    if lon_missing or lat_missing:
        raise RecordError("coordinates: give both lon and lat, or neither")
    x = number(lon, "lon", decimal_comma=decimal_comma)
    y = number(lat, "lat", decimal_comma=decimal_comma)
    if not -180 <= x <= 180:
        raise RecordError(f"lon {x} is outside -180..180")
    if not -90 <= y <= 90:
        raise RecordError(f"lat {y} is outside -90..90 (are lon and lat swapped?)")
    if is_null_island(x, y):
        raise RecordError("coordinates 0,0 are not a real position (missing coordinates written as zeros?)")
    return x, y


def bbox(value: Any, name: str = "place_bbox") -> tuple[float, float, float, float] | None:
    """Parse ``min_lon,min_lat,max_lon,max_lat`` (a list or a comma-separated string)."""
    if value is None or value == "" or value == []:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise RecordError(f"{name}: expected min_lon,min_lat,max_lon,max_lat")
    min_lon, min_lat, max_lon, max_lat = (number(part, name) for part in parts)
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise RecordError(f"{name}: {min_lon},{min_lat},{max_lon},{max_lat} is not a WGS84 box (min before max)")
    return min_lon, min_lat, max_lon, max_lat


def count(value: Any, name: str) -> int:
    """Parse an engagement count: empty means 0; negative or fractional counts are errors."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise RecordError(f"{name}: {value!r} is not a count")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise RecordError(f"{name}: {value!r} is not a count (a whole number, 0 or more)")
    return min(value, MAX_COUNT)


def language(value: Any) -> str:
    """Return a BCP 47 language code, or ``""`` when unknown ("und", too long, not a code)."""
    code = optional_text(value, MAX_LANGUAGE).replace("_", "-")
    if not code or code.lower() in {"und", "zxx", "qme", "qht", "qst"}:
        return ""
    return code


def dump_raw(payload: dict[str, Any]) -> str:
    """Serialise a raw payload for JSONB, cleaning it only when it needs it (rarely)."""
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if "\\u0000" not in text:
            text.encode("utf-8")
            return text
    except (UnicodeEncodeError, ValueError):
        pass
    return json.dumps(storable_json(payload), ensure_ascii=False, separators=(",", ":"))


def check_record(record: PostRecord) -> PostRecord:
    """Raise :class:`RecordError` unless ``record`` can be stored as a post or counted as a repost."""
    if not record.external_id:
        raise RecordError("id is missing or empty")
    if not record.repost_of and not record.text.strip():
        raise RecordError("text is missing or empty")
    if record.repost_of == record.external_id:
        raise RecordError("a post cannot be a repost of itself")
    return record


def default_source(format_name: str, override: str | None) -> str:
    """The source stored with posts of ``format_name`` unless the caller names one."""
    return source_name(override) if override else format_name
