"""Citizen reports received through Open311 GeoReport v2 (``POST requests.json``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils import timezone

from incidents.models import Post
from incidents.pipeline.ingest import ingest
from incidents.sources.parsing import ParsedItem
from incidents.sources.record import PostRecord

SOURCE = "open311"


@dataclass(frozen=True)
class ServiceRequest:
    """A GeoReport v2 service request as submitted (contact details are personal data: staff only)."""

    service_code: str
    lon: float
    lat: float
    description: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""


def submit_service_request(request: ServiceRequest, *, submitted_by: str = "") -> Post:
    """Ingest ``request`` as a post from source ``open311`` through the pipeline; return the post.

    It takes the same path as every other post (stored exactly once, then processed here
    or by the Celery workers): the citizen's chosen service code is its declared category,
    the position they gave its GPS location. Its ``external_id`` is the request token.
    """
    record = PostRecord(
        source=SOURCE,
        external_id=uuid.uuid4().hex,
        text=request.description,
        posted_at=timezone.now(),
        author_id=request.account_id or request.device_id,
        author_handle=request.email,
        media_urls=[request.media_url] if request.media_url else [],
        lon=request.lon,
        lat=request.lat,
        declared_category=request.service_code,
        raw={
            "service_code": request.service_code,
            "lat": request.lat,
            "long": request.lon,
            "description": request.description,
            "email": request.email,
            "first_name": request.first_name,
            "last_name": request.last_name,
            "phone": request.phone,
            "media_url": request.media_url,
            "device_id": request.device_id,
            "account_id": request.account_id,
            "submitted_by": submitted_by,
        },
    )
    ingest([ParsedItem(position="request", record=record)])
    return Post.objects.get(source=SOURCE, external_id=record.external_id)
