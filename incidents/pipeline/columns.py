"""
The post columns the pipeline writes and reads back, defined once.

A parsed post (:class:`~incidents.sources.record.PostRecord`) is copied into a staging
table (``COPY``), inserted from there into the post table (:mod:`incidents.pipeline.store`)
and, for the posts a worker processes, read back for the classify and locate stages
(:mod:`incidents.pipeline.process`). Every SQL string listing those columns is built here;
their types are the post model's, so the staging table holds exactly what the post table
accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter

from django.db import connection

from incidents.models import Post
from incidents.sources.parsing import dump_raw
from incidents.sources.record import PostRecord

POST = Post._meta.db_table

# The counts a fresher copy of a post may raise.
ENGAGEMENT = ("like_count", "repost_count", "reply_count", "quote_count")
# Attributes of PostRecord stored as they are, each in the post column of the same name.
PLAIN = (
    "source",
    "external_id",
    "url",
    "author_handle",
    "author_id",
    "text",
    "language",
    "media_urls",
    "posted_at",
    *ENGAGEMENT,
    "repost_of",
    "quote_of",
    "reply_to",
    "reply_to_local",
    "reply_to_author",
    "local_id",
    "thread_root",
    "place_name",
    "place_type",
    "declared_category",
)
# The device's point (``lon``, ``lat``) and the place's box (``place_bbox``) are staged as numbers.
_POINT = ("gps_lon", "gps_lat")
_BOX = ("bbox_min_lon", "bbox_min_lat", "bbox_max_lon", "bbox_max_lat")

# The staging table, in the order of staging_row().
STAGING = "ingest_post"
STAGING_COLUMNS = (*PLAIN, "raw", *_POINT, *_BOX)


def column_type(name: str) -> str:
    """The SQL type of the post column ``name``."""
    return Post._meta.get_field(name).db_type(connection)


CREATE_STAGING = (
    f"CREATE TEMPORARY TABLE {STAGING} ("
    + ", ".join([*(f"{name} {column_type(name)}" for name in (*PLAIN, "raw")), *(f"{n} float8" for n in _POINT + _BOX)])
    + ") ON COMMIT DROP"
)
COPY_STAGING = f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

# The post columns written from the staging table, and their values.
STORED_VALUES = {
    **{name: name for name in (*PLAIN, "raw")},
    "gps_location": f"CASE WHEN {_POINT[0]} IS NOT NULL THEN ST_SetSRID(ST_MakePoint({', '.join(_POINT)}), 4326) END",
    "place_bbox": f"CASE WHEN {_BOX[0]} IS NOT NULL THEN ST_MakeEnvelope({', '.join(_BOX)}, 4326) END",
}

_plain = attrgetter(*PLAIN)
_NO_BOX = (None, None, None, None)


def staging_row(record: PostRecord) -> tuple:
    """The staging table's row of ``record`` (for ``COPY``)."""
    return (*_plain(record), dump_raw(record.raw), record.lon, record.lat, *(record.place_bbox or _NO_BOX))


# What the classify and locate stages see of a post: what is stored about it, nothing more, so
# that a post decided where it was parsed and one read back by a worker get the same decisions.
STAGE_INPUTS = (
    "source",
    "external_id",
    "text",
    "language",
    "posted_at",
    "place_name",
    "place_type",
    "declared_category",
    # what it answers: a reply with no place of its own waits for its conversation (incidents.pipeline.thread)
    "reply_to",
    "reply_to_local",
    "quote_of",
    # and whose: an author's reply to their own report continues it
    "author_id",
    "reply_to_author",
    "thread_root",
)
_stage_inputs = attrgetter(*STAGE_INPUTS, "lon", "lat", "place_bbox")
_READ_POSTS = f"""
    SELECT id, {", ".join(STAGE_INPUTS)}, ST_X(gps_location), ST_Y(gps_location),
           ST_XMin(place_bbox), ST_YMin(place_bbox), ST_XMax(place_bbox), ST_YMax(place_bbox)
    FROM {POST} WHERE id = ANY(%s)
"""


def stage_record(record: PostRecord) -> PostRecord:
    """What the classify and locate stages see of ``record``: see :data:`STAGE_INPUTS`."""
    *values, lon, lat, box = _stage_inputs(record)
    staged = PostRecord(**dict(zip(STAGE_INPUTS, values, strict=True)), lon=lon, lat=lat)
    staged.posted_at = staged.posted_at.astimezone(dt.UTC)
    staged.place_bbox = tuple(box) if box else None
    return staged


def read_posts(cursor, post_ids: Sequence[int]) -> dict[int, PostRecord]:
    """The stored posts ``post_ids`` as the classify and locate stages see them, by id."""
    cursor.execute(_READ_POSTS, [list(post_ids)])
    posts = {}
    for post_id, *values, lon, lat, min_lon, min_lat, max_lon, max_lat in cursor.fetchall():
        box = (min_lon, min_lat, max_lon, max_lat) if min_lon is not None else None
        posts[post_id] = PostRecord(**dict(zip(STAGE_INPUTS, values, strict=True)), lon=lon, lat=lat, place_bbox=box)
    return posts
