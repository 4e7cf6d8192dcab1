"""Read the values open-data files publish: codes and free text (dates: :func:`incidents.inputs.parse_datetime`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from incidents.inputs import RecordError

# Longest e-mail address stored (RFC 5321's path limit, Django's EmailField).
MAX_EMAIL_LENGTH = 254


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
