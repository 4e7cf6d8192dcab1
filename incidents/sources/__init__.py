"""Sources: one parser per input format, all yielding :class:`PostRecord`."""

from .record import PostRecord

__all__ = ["PostRecord"]
