"""
OGC API – Tiles at ``/ogc/``: vector tiles of every collection in the WebMercatorQuad scheme.

``/tileMatrixSets[/WebMercatorQuad]`` describes the scheme, ``/collections/{id}/tiles``
lists a collection's tilesets and ``…/tiles/WebMercatorQuad`` describes it;
``…/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`` is a Mapbox vector tile
built by PostGIS (:mod:`incidents.publish.tiles`). A tile's ``ETag`` comes from the
number and latest change of the features it may show (one index probe), so a client
revalidating gets ``304`` before any tile is built, and a tile built once is served from
the cache until its features change.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from incidents.api.http import set_validators, validators
from incidents.api.ogc.views import COLLECTION_ID, JSON, OGCView, get_layer, json_schema, ogc_schema
from incidents.api.schema import ref
from incidents.publish import tiles
from incidents.publish.crs import EPSG_URI
from incidents.publish.features import match
from incidents.publish.layers import Layer

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
# Half the side of the Web Mercator square, metres; a tile is 256 pixels.
ORIGIN = 20037508.3427892
TILE_PIXELS = 256
# OGC's standardised rendering pixel, metres (scale denominator = cell size / pixel size).
PIXEL_SIZE_M = 0.00028
# Tiles up to this size are kept in the cache (a tile of the whole city at low zoom is not).
CACHE_MAX_BYTES = 1_000_000
CACHE_SECONDS = 3600


def tile_matrix_set() -> dict:
    """The WebMercatorQuad tile matrix set (OGC 2D Tile Matrix Set 2.0, JSON)."""
    matrices = []
    for zoom in range(tiles.MAX_ZOOM + 1):
        cell = 2 * ORIGIN / TILE_PIXELS / 2**zoom
        matrices.append(
            {
                "id": str(zoom),
                "scaleDenominator": cell / PIXEL_SIZE_M,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN, ORIGIN],
                "matrixWidth": 2**zoom,
                "matrixHeight": 2**zoom,
                "tileWidth": TILE_PIXELS,
                "tileHeight": TILE_PIXELS,
            }
        )
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": f"{EPSG_URI}3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def tile_template(request, layer: Layer) -> str:
    base = request.build_absolute_uri(reverse("ogc-tileset", args=[layer.name, TMS_ID]))
    return base + "/{tileMatrix}/{tileRow}/{tileCol}"


def tileset_summary(request, layer: Layer) -> dict:
    return {
        "title": layer.title,
        "dataType": "vector",
        "crs": f"{EPSG_URI}3857",
        "tileMatrixSetURI": TMS_URI,
        "links": [
            {"href": request.build_absolute_uri(reverse("ogc-tileset", args=[layer.name, TMS_ID])), "rel": "self",
             "type": JSON, "title": _("The tileset")},
            {"href": request.build_absolute_uri(reverse("ogc-tile-matrix-set", args=[TMS_ID])),
             "rel": REL_TILING_SCHEME, "type": JSON, "title": TMS_ID},
        ],
    }  # fmt: skip


def tileset_document(request, layer: Layer) -> dict:
    """The tileset metadata of ``layer`` (OGC API – Tiles, geodata tileset)."""
    document = tileset_summary(request, layer)
    document["links"] += [
        {"href": tile_template(request, layer), "rel": "item", "type": tiles.MEDIA_TYPE, "templated": True,
         "title": _("Vector tiles of %(collection)s") % {"collection": layer.title}},
        {"href": request.build_absolute_uri(reverse("ogc-collection", args=[layer.name])),
         "rel": "http://www.opengis.net/def/rel/ogc/1.0/geodata", "type": JSON, "title": layer.title},
    ]  # fmt: skip
    dimension = {"Point": 0, "MultiPoint": 0, "MultiLineString": 1, "MultiPolygon": 2}[layer.geometry_types[0]]
    document["tileMatrixSetLimits"] = [
        {"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2**z - 1, "minTileCol": 0, "maxTileCol": 2**z - 1}
        for z in range(tiles.MAX_ZOOM + 1)
    ]
    document["layers"] = [
        {
            "id": layer.name,
            "title": layer.title,
            "description": layer.description,
            "dataType": "vector",
            "geometryDimension": dimension,
            "minTileMatrix": "0",
            "maxTileMatrix": str(tiles.MAX_ZOOM),
            "propertiesSchema": {"type": "object", "properties": tile_properties_schema(layer)},
        }
    ]
    return document


def tile_properties_schema(layer: Layer) -> dict:
    """What each feature of a tile carries; point features also say how many features share their cell."""
    names = tiles.tile_properties(layer)
    properties = {prop.name: json_schema(prop.schema) for prop in layer.properties if prop.name in names}
    if tiles.groups_points(layer):
        properties["count"] = {
            "type": "integer",
            "description": _("Up to zoom 14: features in this cell of 4×4 pixels; the one shown has the lowest id."),
        }
    return properties


def _tms(tile_matrix_set_id: str) -> None:
    if tile_matrix_set_id != TMS_ID:
        raise Http404(_("No tile matrix set %(id)r; use %(tms)s.") % {"id": tile_matrix_set_id, "tms": TMS_ID})


TMS_PARAM = OpenApiParameter("tile_matrix_set_id", str, OpenApiParameter.PATH, enum=[TMS_ID])


class TileMatrixSetsView(OGCView):
    @ogc_schema("Tiling schemes", "ogc_tile_matrix_sets", "OGCTileMatrixSets")
    def get(self, request):
        body = {
            "links": self.links(request, reverse("ogc-tile-matrix-sets"), title=_("Tiling schemes")),
            "tileMatrixSets": [
                {"id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI, "links": [
                    {"href": request.build_absolute_uri(reverse("ogc-tile-matrix-set", args=[TMS_ID])),
                     "rel": REL_TILING_SCHEME, "type": JSON, "title": TMS_ID}]},
            ],
        }  # fmt: skip
        return self.answer(request, body, "document.html")


class TileMatrixSetView(OGCView):
    @ogc_schema("A tiling scheme", "ogc_tile_matrix_set", "OGCTileMatrixSet", parameters=[TMS_PARAM], found=False)
    def get(self, request, tile_matrix_set_id: str):
        _tms(tile_matrix_set_id)
        return self.answer(request, tile_matrix_set(), "document.html")


class TilesetsView(OGCView):
    @ogc_schema("Tilesets of a collection", "ogc_tilesets", "OGCTilesets", parameters=[COLLECTION_ID], found=False)
    def get(self, request, collection_id: str):
        layer = get_layer(collection_id)
        body = {
            "links": self.links(request, reverse("ogc-tilesets", args=[layer.name]), title=_("Vector tiles")),
            "tilesets": [tileset_summary(request, layer)],
        }
        return self.answer(request, body, "document.html")


class TilesetView(OGCView):
    @ogc_schema("Tileset metadata", "ogc_tileset", "OGCTileset", parameters=[COLLECTION_ID, TMS_PARAM], found=False)
    def get(self, request, collection_id: str, tile_matrix_set_id: str):
        layer = get_layer(collection_id)
        _tms(tile_matrix_set_id)
        return self.answer(request, tileset_document(request, layer), "document.html")


def _tile_number(value: str) -> int:
    if not value.isdigit() or len(value) > 8:
        raise Http404(_("No such tile."))
    return int(value)


class TileView(OGCView):
    allowed_params = ()

    @extend_schema(
        summary="A vector tile of a collection",
        operation_id="ogc_tile",
        parameters=[
            COLLECTION_ID,
            TMS_PARAM,
            OpenApiParameter("tile_matrix", {"type": "integer", "minimum": 0, "maximum": tiles.MAX_ZOOM},
                             OpenApiParameter.PATH, description="Zoom level."),
            OpenApiParameter("tile_row", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH,
                             description="Row, from the top."),
            OpenApiParameter("tile_col", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH,
                             description="Column, from the left."),
        ],
        responses={
            (200, tiles.MEDIA_TYPE): OpenApiResponse({"type": "string", "format": "binary"}),
            304: OpenApiResponse(description="Not modified."),
            400: ref("OGCException"), 404: ref("OGCException"), 429: ref("OGCException"),
        },
        tags=["ogc"],
    )  # fmt: skip
    def get(self, request, collection_id: str, tile_matrix_set_id: str, tile_matrix: str, tile_row: str,
            tile_col: str):  # fmt: skip
        layer = get_layer(collection_id)
        _tms(tile_matrix_set_id)
        z, y, x = _tile_number(tile_matrix), _tile_number(tile_row), _tile_number(tile_col)
        if not tiles.is_valid_tile(z, x, y):
            raise Http404(_("No tile %(z)d/%(row)d/%(col)d in %(tms)s.") % {"z": z, "row": y, "col": x, "tms": TMS_ID})
        etag, last_modified = validators(request, match(tiles.tile_features(layer, z, x, y)), "mvt")
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            key = f"ogc-tile:{etag}"
            body = cache.get(key)
            if body is None:
                body = tiles.render_tile(layer, z, x, y)
                if len(body) <= CACHE_MAX_BYTES:
                    cache.set(key, body, CACHE_SECONDS)
            response = HttpResponse(body, content_type=tiles.MEDIA_TYPE)
        set_validators(response, etag, last_modified)
        return response
