"""
The JSON parser of every API write: DRF's, hardened against bodies it turned into 500s.

- a leading UTF-8 byte-order mark (what some Windows tools write) is dropped (RFC 8259
  lets a parser ignore it);
- a body that is not UTF-8 (a Latin-1 file, broken bytes) answers 400 saying so;
- JSON nested deeper than Python's recursion limit answers 400 (``json`` raises
  ``RecursionError``, which DRF does not catch);
- ``NaN`` and ``Infinity`` stay refused (DRF's strict JSON).
"""

from __future__ import annotations

import codecs
import io

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(
                _("The body is not %(encoding)s text (byte %(position)d: %(reason)s); send JSON encoded in UTF-8.")
                % {"encoding": encoding, "position": error.start, "reason": error.reason}
            ) from None
        except LookupError:
            raise ParseError(
                _("Unknown charset %(encoding)r; send JSON encoded in UTF-8.") % {"encoding": encoding}
            ) from None
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
