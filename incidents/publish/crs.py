"""
Coordinate reference systems of the OGC API (Features Part 2: ``crs``, ``bbox-crs``, ``filter-crs``).

Storage is WGS84 longitude/latitude (CRS84). Output in another CRS is transformed by
PostGIS (``ST_Transform``), and its axes are written in the order the CRS defines:
EPSG:4326 is latitude first, so its coordinates are flipped; Lambert-93 (EPSG:2154) and
Web Mercator (EPSG:3857) are easting first. Input boxes and geometries given in another
CRS are read in that order and transformed to CRS84 before they meet the data.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

import shapely
from django import forms
from django.conf import settings
from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.gdal.libgdal import lgdal
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
# Offered whatever the settings say: WGS84 both ways round, Lambert-93 and Web Mercator.
BUILT_IN_EPSG = (4326, 2154, 3857)
STORAGE_SRID = 4326


@dataclass(frozen=True)
class CRS:
    """A CRS clients may ask for: its URI, its EPSG code, and whether northing comes first."""

    uri: str
    srid: int
    northing_first: bool
    # Decimals of output coordinates: ~10 cm in degrees, 1 cm in metres.
    decimals: int

    @property
    def is_storage(self) -> bool:
        return self.srid == STORAGE_SRID and not self.northing_first

    def output_sql(self, sql: str) -> str:
        """SQL turning the stored geometry ``sql`` into this CRS, axes in its order."""
        if self.srid != STORAGE_SRID:
            sql = f"ST_Transform({sql}, {int(self.srid)})"
        if self.northing_first:
            sql = f"ST_FlipCoordinates({sql})"
        return sql

    def to_storage(self, geometry) -> GEOSGeometry:
        """A shapely or GEOS geometry given in this CRS, as a GEOS geometry in CRS84."""
        shape = shapely.from_wkb(bytes(geometry.wkb)) if isinstance(geometry, GEOSGeometry) else geometry
        if self.northing_first:
            shape = shapely.transform(shape, lambda coordinates: coordinates[:, ::-1])
        result = GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=self.srid)
        if self.srid != STORAGE_SRID:
            result.transform(STORAGE_SRID)
        return result

    def box_to_storage(self, box: tuple[float, float, float, float]) -> GEOSGeometry:
        """A ``bbox`` given in this CRS (its axis order) as a CRS84 polygon.

        The box's edges are densified before the transformation, so that a box drawn in
        metres keeps its shape (its edges are curves in degrees).
        """
        polygon = shapely.box(*box)
        if self.srid != STORAGE_SRID:
            polygon = shapely.segmentize(polygon, max(box[2] - box[0], box[3] - box[1]) / 16 or 1)
        return self.to_storage(polygon)


def _northing_first(srs: SpatialReference) -> bool:
    """Whether the EPSG definition of ``srs`` lists latitude or northing first (GDAL knows)."""
    for name in ("OSREPSGTreatsAsLatLong", "OSREPSGTreatsAsNorthingEasting"):
        function = getattr(lgdal, name)
        function.argtypes = [ctypes.c_void_p]
        function.restype = ctypes.c_int
        if function(srs.ptr):
            return True
    return False


def _epsg(srid: int) -> CRS:
    try:
        srs = SpatialReference(srid)
    except GDALException as error:
        raise ImproperlyConfigured(f"INCIDENTS_OGC_EXTRA_CRS: EPSG:{srid} is not a known CRS ({error})") from None
    return CRS(f"{EPSG_URI}{srid}", srid, _northing_first(srs), 6 if srs.geographic else 2)


@functools.cache
def supported() -> dict[str, CRS]:
    """The CRSs on offer, by URI: CRS84 first (the default), then the EPSG codes."""
    codes = list(BUILT_IN_EPSG)
    for item in settings.INCIDENTS_OGC_EXTRA_CRS:
        code = item.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if not code.isdigit():
            raise ImproperlyConfigured(f"INCIDENTS_OGC_EXTRA_CRS: {item!r} is not an EPSG code such as 25831")
        if int(code) not in codes:
            codes.append(int(code))
    crs = {CRS84_URI: CRS(CRS84_URI, STORAGE_SRID, False, 6)}
    for code in codes:
        found = _epsg(code)
        crs[found.uri] = found
    return crs


CRS84 = CRS(CRS84_URI, STORAGE_SRID, False, 6)


def parse_crs(value: str) -> CRS:
    """The CRS named by ``value``: its URI, or the short ``EPSG:2154`` / ``[EPSG:2154]`` forms."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):  # safe CURIE, as Part 2 allows
        text = text[1:-1]
    if text.upper().startswith("EPSG:") and text[5:].isdigit():
        text = f"{EPSG_URI}{int(text[5:])}"
    if text.upper() in {"OGC:CRS84", "CRS84"}:
        text = CRS84_URI
    found = supported().get(text.replace("https://", "http://", 1))
    if found is None:
        raise forms.ValidationError(
            _("Unsupported CRS %(crs)r; use one of: %(supported)s.")
            % {"crs": value, "supported": ", ".join(supported())}
        )
    return found


def content_crs_header(crs: CRS) -> str:
    """The value of the ``Content-Crs`` header."""
    return f"<{crs.uri}>"
