"""Read the values open-data files publish: codes and free text (dates: :func:`incidents.inputs.parse_datetime`)."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    """A published value as stripped text ('' for null); numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def insee_code(value: Any) -> str:
    """An INSEE commune code as its 5 characters (published as 31555 or '31555'; '2A004' kept)."""
    code = text(value)
    return code.zfill(5) if code.isdigit() else code
