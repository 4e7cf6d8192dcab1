"""
Output formats: GeoJSON (``application/geo+json``, the default) and CSV.

Feature texts come from PostgreSQL already encoded (see :mod:`incidents.publish.layers`);
these helpers only join them, so a page costs a string join and a full export streams
from a server-side cursor without holding the collection in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

GEOJSON = "application/geo+json"
CSV = "text/csv"
# Rows fetched per round trip when streaming a full export.
STREAM_CHUNK = 2000


class GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON
    format = "geojson"


class PlainJSONRenderer(JSONRenderer):
    """The same GeoJSON body for clients that only ask for ``application/json``."""

    format = "json"


class CSVRenderer(BaseRenderer):
    media_type = CSV
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Errors (400, 429...) reach this renderer as dicts: answer them as JSON text.
        return json.dumps(data).encode()


class StrictContentNegotiation(DefaultContentNegotiation):
    """An unknown ``?format=`` is a bad request (400 with the choices), not a 404."""

    def filter_renderers(self, renderers, format):
        kept = [renderer for renderer in renderers if renderer.format == format]
        if not kept:
            raise ValidationError(
                {
                    self.settings.URL_FORMAT_OVERRIDE: [
                        _("Unknown format %(format)r; use one of: %(formats)s.")
                        % {"format": format, "formats": ", ".join(r.format for r in renderers)}
                    ]
                }
            )
        return kept


def _members_text(members: dict) -> str:
    return "".join(f"{json.dumps(key)}:{json.dumps(value, default=str)}," for key, value in members.items())


def feature_collection(features: Iterable[str], members: dict, content_type: str = GEOJSON) -> HttpResponse:
    """A FeatureCollection response from feature texts and extra top-level members."""
    body = '{"type":"FeatureCollection",' + _members_text(members) + '"features":[' + ",".join(features) + "]}"
    return HttpResponse(body, content_type=content_type)


def streamed_feature_collection(
    features: Iterable[str], members: dict, content_type: str = GEOJSON
) -> StreamingHttpResponse:
    """The same FeatureCollection, streamed feature by feature (full exports)."""

    def chunks() -> Iterator[str]:
        yield '{"type":"FeatureCollection",' + _members_text(members) + '"features":['
        batch: list[str] = []
        first = True
        for feature in features:
            batch.append(feature)
            if len(batch) == STREAM_CHUNK:
                yield ("" if first else ",") + ",".join(batch)
                first, batch = False, []
        if batch:
            yield ("" if first else ",") + ",".join(batch)
        yield "]}"

    return StreamingHttpResponse(chunks(), content_type=content_type)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def csv_response(columns: list[str], rows: Iterable[tuple], filename: str) -> StreamingHttpResponse:
    """A streamed CSV file (UTF-8, header row first)."""

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for count, row in enumerate(rows, 1):
            writer.writerow([_csv_value(value) for value in row])
            if count % STREAM_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type=f"{CSV}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
