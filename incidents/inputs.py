"""Where import data comes from: a file, every file of a folder, or standard input."""

from __future__ import annotations

import codecs
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from incidents.importers.records import InputError

# Files a folder import picks up; anything else in the folder is ignored.
SUPPORTED_SUFFIXES = (".geojson", ".json", ".osm", ".pbf")

# OSM PBF files start with a BlobHeader whose type is "OSMHeader".
_PBF_MARKER = b"OSMHeader"


@dataclass
class InputFile:
    """The bytes of one input and the name to report positions against."""

    name: str
    data: bytes
    # The path the user gave (the folder, for a file read from a folder).
    origin: str = ""
    _json: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A UTF-8 byte-order mark (Windows tools write one) would hide the JSON or XML behind it.
        if self.data.startswith(codecs.BOM_UTF8):
            self.data = self.data[len(codecs.BOM_UTF8) :]

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

    def json(self) -> Any:
        """The parsed JSON document; raise :class:`InputError` saying where it is malformed."""
        if self._json is None:
            try:
                self._json = json.loads(self.data)
            except UnicodeDecodeError as error:
                raise InputError(
                    _("%(name)s: not UTF-8 text (%(reason)s at byte %(byte)s)")
                    % {"name": self.name, "reason": error.reason, "byte": error.start}
                ) from None
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


def read_inputs(path: str, stdin: BinaryIO | None = None) -> list[InputFile]:
    """Read ``path``: a file, a folder (its supported files, sorted by name) or ``-`` for stdin."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return [InputFile("<stdin>", stream.read())]
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and p.name.lower().endswith(SUPPORTED_SUFFIXES))
        if not files:
            raise InputError(
                _("%(path)s: the folder holds no %(suffixes)s file to import.")
                % {"path": path, "suffixes": ", ".join(SUPPORTED_SUFFIXES)}
            )
        return [InputFile(str(p), p.read_bytes(), origin=path) for p in files]
    if not target.exists():
        raise InputError(_("%(path)s: no such file or folder.") % {"path": path})
    try:
        return [InputFile(str(target), target.read_bytes(), origin=path)]
    except OSError as error:
        raise InputError(
            _("%(path)s: cannot be read (%(reason)s).") % {"path": path, "reason": error.strerror}
        ) from None


def read_paths(paths: list[str], stdin: BinaryIO | None = None) -> list[InputFile]:
    """Read several paths (see :func:`read_inputs`) into one list of inputs."""
    return [input_file for path in paths for input_file in read_inputs(path, stdin)]
