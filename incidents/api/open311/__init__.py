"""Open311 GeoReport v2 (JSON) over incidents, with citizen reports as posts."""
