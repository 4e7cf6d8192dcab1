"""Read the values open-data files publish: dates in their many shapes, codes, free text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.importers.records import RecordError

# Longest e-mail address stored (RFC 5321's path limit, Django's EmailField).
MAX_EMAIL_LENGTH = 254
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def local_timezone() -> dt.tzinfo:
    """The city's time zone (``TIME_ZONE``, Europe/Paris by default): naive source times are in it."""
    return timezone.get_default_timezone()


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_timezone())


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in the city: works announced "until the 21st" run through the 21st."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=local_timezone())


def parse_datetime(value: Any, *, end: bool = False, label: str = "date") -> dt.datetime | None:
    """See :func:`_parse_datetime`; a moment without a UTC equivalent (year 1 or 9999 at the edges) is refused."""
    moment = _parse_datetime(value, end=end, label=label)
    if moment is not None:
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:
            raise RecordError(
                _("%(label)s %(value)r is out of range") % {"label": label, "value": str(value)}
            ) from None
    return moment


def _parse_datetime(value: Any, *, end: bool = False, label: str = "date") -> dt.datetime | None:
    """Return ``value`` as an aware datetime, or ``None`` when it is empty.

    Accepts ISO 8601 (with or without offset; naive times are local), ``YYYY-MM-DD``,
    ``YYYYMMDD`` and ``DD/MM/YYYY[ HH:MM[:SS]]``. A date without a time is the start of
    that local day, or its end when ``end`` is true. Raise :class:`RecordError` naming
    ``label`` when the value cannot be read.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, local_timezone())
    if isinstance(value, dt.date):
        return end_of_day(value) if end else start_of_day(value)
    text = str(value).strip()
    if not text:
        return None
    day = _parse_date_only(text)
    if day is not None:
        return end_of_day(day) if end else start_of_day(day)
    french = _FRENCH_DATE.match(text)
    if french:
        d, m, y, hh, mm, ss = french.groups()
        try:
            day = dt.date(int(y), int(m), int(d))
            if hh is None:
                return end_of_day(day) if end else start_of_day(day)
            moment = dt.datetime.combine(day, dt.time(int(hh), int(mm), int(ss or 0)))
        except ValueError:
            raise RecordError(_("unreadable %(label)s %(text)r") % {"label": label, "text": text}) from None
        return timezone.make_aware(moment, local_timezone())
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise RecordError(
            _("unreadable %(label)s %(text)r (expected ISO 8601, YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)")
            % {"label": label, "text": text}
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, local_timezone())
    return moment


def _parse_date_only(text: str) -> dt.date | None:
    compact = _COMPACT_DATE.match(text)
    try:
        if compact:
            return dt.date(*(int(part) for part in compact.groups()))
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(_("unreadable date %(text)r (no such day)") % {"text": text}) from None
    return None


def text(value: Any) -> str:
    """A published value as stripped text ('' for null); numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def email_address(value: Any) -> str:
    """A published contact as an e-mail address ('' for none); raise :class:`RecordError` when it is not one."""
    address = text(value).removeprefix("mailto:")
    if not address:
        return ""
    try:
        validate_email(address)
        if len(address) > MAX_EMAIL_LENGTH:
            raise ValidationError(address)
    except ValidationError:
        raise RecordError(_("contact %(text)r is not an e-mail address") % {"text": address}) from None
    return address


def insee_code(value: Any) -> str:
    """An INSEE commune code as its 5 characters (published as 31555 or '31555'; '2A004' kept)."""
    code = text(value)
    return code.zfill(5) if code.isdigit() else code
