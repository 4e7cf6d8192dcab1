"""Citizen reports received through Open311 GeoReport v2 (``POST requests.json``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from incidents.models import LocationMethod, Post, PostState

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


@transaction.atomic
def submit_service_request(request: ServiceRequest, *, submitted_by: str = "") -> Post:
    """Store ``request`` as a pending post from source ``open311``; the pipeline locates and groups it.

    The citizen's chosen service code is their category (score 1); the position they
    gave is a GPS location. Returns the post; its ``external_id`` is the request token.
    """
    post = Post.objects.create(
        source=SOURCE,
        external_id=uuid.uuid4().hex,
        text=request.description,
        posted_at=timezone.now(),
        author_id=request.account_id or request.device_id,
        author_handle=request.email,
        media_urls=[request.media_url] if request.media_url else [],
        location=Point(request.lon, request.lat, srid=4326),
        location_method=LocationMethod.GPS,
        category=request.service_code,
        category_score=1.0,
        state=PostState.PENDING,
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
    return post
