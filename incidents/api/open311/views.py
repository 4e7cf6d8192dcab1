"""
Open311 GeoReport v2 at ``/open311/v2/``, in JSON (``.json``) and XML (``.xml``).

Incidents are the service requests: ``service_request_id`` is the incident id, the
category is the ``service_code``, and ``status`` is ``open`` while the city still has
something to do. ``description`` is the first post's text, scrubbed of personal data
for anonymous callers. Lists (``service_request_id``, ``service_code``, ``status``) are
comma-separated. At most 1,000 requests answer at once, as the specification says; the
``page``/``page_size`` extension goes further, announced by ``Link: <…>; rel="next"``
and ``X-Total-Count``. Every error is a GeoReport error list.

``POST requests.json`` needs an API key (a DRF token, as ``api_key`` or an
``Authorization: Token`` header): the report becomes a pending post from source
``open311`` and the answer carries its ``token``; ``tokens/{token}.json`` gives the
incident it was grouped into once the pipeline has run.
"""

from __future__ import annotations

import datetime as dt
import math

from django import forms
from django.contrib.gis.geos import Point
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from incidents.api.http import parse_id, reject_unknown
from incidents.api.open311.xml import FORMATS, error_response, respond
from incidents.api.parsers import JSONParser
from incidents.api.schema import INSTANT, OpenDataAutoSchema, codes
from incidents.categories import Category
from incidents.geo import is_null_island
from incidents.models import Incident, Post
from incidents.models.incidents import OPEN_STATUSES
from incidents.pipeline.areas import is_in_service_area
from incidents.publish.filters import CodeListField, parse_instant
from incidents.publish.privacy import scrub_text, sees_personal_data
from incidents.services.open311 import SOURCE, ServiceRequest, submit_service_request

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# GeoReport v2: without dates, requests of the last 90 days; at most 1,000 per answer.
DEFAULT_DAYS = 90
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
CODES = [value for value, _label in Category.choices]
STATUSES = ["open", "closed"]


def rfc3339(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(timezone.get_current_timezone()).isoformat(timespec="seconds") if moment else None


SUBMITTED = {
    "type": "object",
    "required": ["token", "service_notice", "account_id"],
    "properties": {
        "token": {"type": "string"},
        "service_notice": {"type": "string"},
        "account_id": {"type": "string", "nullable": True},
    },
}


class Open311View(APIView):
    """Answers in JSON or XML by the URL's suffix; errors as GeoReport v2 lists of ``{code, description}``."""

    schema = OpenDataAutoSchema()
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(data, dict) and "detail" not in data:
            messages = [f"{name}: {' '.join(map(str, msgs))}" for name, msgs in data.items()]
        else:
            messages = [str(data.get("detail", data) if isinstance(data, dict) else data)]
        answer = error_response(self.request, [(response.status_code, message) for message in messages],
                                response.status_code)  # fmt: skip
        for header in ("Retry-After", "WWW-Authenticate", "Allow"):
            if header in response:
                answer[header] = response[header]
        return answer


def output_format(output: str) -> str:
    """``json`` or ``xml``; any other suffix is a resource that does not exist."""
    if output not in FORMATS:
        raise Http404(_("Use .json or .xml."))
    return output


ERRORS = {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "integer"},
                                                                      "description": {"type": "string"}}}}  # fmt: skip
OUTPUT = OpenApiParameter("output", str, OpenApiParameter.PATH, enum=list(FORMATS), description="json or xml.")
XML_BODY = {"type": "string", "description": "The same document in GeoReport v2 XML."}


def answers(ok: dict, *errors: int, status: int = 200) -> dict:
    """OpenAPI responses of an Open311 endpoint: ``ok`` and GeoReport error lists, in JSON and XML."""
    result = {(status, "application/json"): ok, (status, "text/xml"): XML_BODY}
    for code in (400, *errors, 404, 429):
        result[(code, "application/json")] = ERRORS
        result[(code, "text/xml")] = XML_BODY
    return result


class DiscoveryView(Open311View):
    @extend_schema(
        summary="Open311 discovery", tags=["open311"], parameters=[OUTPUT], responses=answers({"type": "object"})
    )
    def get(self, request, output: str):
        output_format(output)
        reject_unknown(request.query_params, [])
        base = request.build_absolute_uri(reverse("open311-discovery", args=["json"])).rsplit("/", 1)[0] + "/"
        return respond(
            request,
            {
                "changeset": "2026-01-01T00:00:00Z",
                "contact": _("Open data team of the city"),
                "key_service": _(
                    "An API key (a token) to post requests: ask the city's open data team, who create it in the "
                    "admin (Auth Token › Tokens) for your account; see the README, section Open311."
                ),
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": base,
                        "changeset": "2026-01-01T00:00:00Z",
                        "type": "production",
                        "formats": ["application/json", "text/xml"],
                    },
                ],
            },
            "discovery",
        )


SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
    "properties": {
        "service_code": {"type": "string", "enum": CODES},
        "service_name": {"type": "string"},
        "description": {"type": "string"},
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": {"type": "string"},
        "group": {"type": "string"},
    },
}


class ServicesView(Open311View):
    @extend_schema(
        summary="Open311 services: the incident categories",
        tags=["open311"],
        parameters=[OUTPUT],
        responses=answers({"type": "array", "items": SERVICE}),
    )
    def get(self, request, output: str):
        output_format(output)
        reject_unknown(request.query_params, ["jurisdiction_id"])
        return respond(
            request,
            [
                {
                    "service_code": code,
                    "service_name": str(label),
                    "description": str(label),
                    "metadata": False,
                    "type": "realtime",
                    "keywords": code.replace("_", ","),
                    "group": "",
                }
                for code, label in Category.choices
            ],
            "services",
        )


DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {"service_code": {"type": "string", "enum": CODES}, "attributes": {"type": "array", "items": {}}},
}


class ServiceDefinitionView(Open311View):
    @extend_schema(
        summary="Open311 service definition (no extra attributes: every service has metadata false)",
        tags=["open311"],
        parameters=[OpenApiParameter("service_code", str, OpenApiParameter.PATH, enum=CODES), OUTPUT],
        responses=answers(DEFINITION),
    )
    def get(self, request, service_code: str, output: str):
        output_format(output)
        reject_unknown(request.query_params, ["jurisdiction_id"])
        if service_code not in CODES:
            raise Http404(_("No service %(code)r.") % {"code": service_code})
        return respond(request, {"service_code": service_code, "attributes": []}, "service_definition")


class RequestsForm(forms.Form):
    service_request_id = forms.CharField(required=False)
    service_code = CodeListField(required=False, choices=CODES)
    start_date = forms.CharField(required=False)
    end_date = forms.CharField(required=False)
    status = CodeListField(required=False, choices=STATUSES)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
    page_size = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)
    jurisdiction_id = forms.CharField(required=False)

    def clean_service_request_id(self):
        value = self.cleaned_data["service_request_id"]
        if not value:
            return None
        try:
            return [parse_id(part.strip()) for part in value.split(",") if part.strip()]
        except Http404:
            raise forms.ValidationError(_("Give incident ids (whole numbers), comma-separated.")) from None

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        return parse_instant(value, end=False) if value else None

    def clean_end_date(self):
        value = self.cleaned_data["end_date"]
        return parse_instant(value, end=True) if value else None


SERVICE_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "service_name", "lat", "long",
                 "requested_datetime", "updated_datetime", "address", "description"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": {"type": "string", "nullable": True},
        "service_name": {"type": "string"},
        "service_code": {"type": "string"},
        "description": {"type": "string"},
        "agency_responsible": {"type": "string"},
        "service_notice": {"type": "string", "nullable": True},
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": "string", "format": "date-time"},
        "expected_datetime": {"type": "string", "format": "date-time", "nullable": True},
        "address": {"type": "string"},
        "address_id": {"type": "string", "nullable": True},
        "zipcode": {"type": "string", "nullable": True},
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "media_url": {"type": "string", "nullable": True},
    },
}  # fmt: skip


def service_requests(queryset, *, staff: bool) -> list[dict]:
    first_post = Post.objects.filter(incident=OuterRef("pk")).order_by("posted_at", "id").values("text")[:1]
    rows = queryset.select_related("segment").annotate(first_text=Subquery(first_post))
    labels = dict(Category.choices)
    result = []
    for incident in rows:
        text = incident.first_text or ""
        segment = incident.segment
        result.append(
            {
                "service_request_id": str(incident.pk),
                "status": "open" if incident.status in OPEN_STATUSES else "closed",
                "status_notes": incident.get_status_display() if incident.status not in OPEN_STATUSES else None,
                "service_name": str(labels.get(incident.category, incident.category)),
                "service_code": incident.category,
                "description": text if staff else scrub_text(text),
                "agency_responsible": "",
                "service_notice": None,
                "requested_datetime": rfc3339(incident.first_post_at),
                "updated_datetime": rfc3339(incident.updated_at),
                "expected_datetime": None,
                "address": f"{segment.name}, {segment.commune}".strip(", ") if segment else "",
                "address_id": str(segment.pk) if segment else None,
                "zipcode": None,
                "lat": round(incident.location.y, 6),
                "long": round(incident.location.x, 6),
                "media_url": None,
            }
        )
    return result


class PostRequestSerializer(serializers.Serializer):
    api_key = serializers.CharField(required=False, max_length=40)
    jurisdiction_id = serializers.CharField(required=False, allow_blank=True)
    service_code = serializers.ChoiceField(choices=CODES)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    long = serializers.FloatField(min_value=-180, max_value=180)
    address_string = serializers.CharField(required=False, allow_blank=True, max_length=500)
    address_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    # No default: OpenAPI would document '' as the default of an e-mail (or URL) string, which is invalid.
    email = serializers.EmailField(required=False, allow_blank=True)
    device_id = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    account_id = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    media_url = serializers.URLField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs):
        lat, lon = attrs["lat"], attrs["long"]
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise serializers.ValidationError({"lat": _("Give finite coordinates.")})
        if is_null_island(lon, lat):
            raise serializers.ValidationError(
                {"lat": _("lat 0, long 0 is not a real position (missing coordinates sent as zeros?).")}
            )
        if (
            -90 <= lon <= 90
            and not is_in_service_area(Point(lon, lat, srid=4326))
            and is_in_service_area(Point(lat, lon, srid=4326))
        ):
            raise serializers.ValidationError(
                {"lat": _("lat and long look swapped: lat is the latitude, long the longitude (WGS84 degrees).")}
            )
        return attrs


class RequestsView(Open311View):
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(
        summary="Open311 service requests (incidents)",
        tags=["open311"],
        parameters=[
            OUTPUT,
            OpenApiParameter(
                "service_request_id",
                {"type": "string", "pattern": "^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17})*$"},
                description="Comma-separated incident ids.",
            ),
            OpenApiParameter("service_code", codes(CODES), description="Comma-separated category codes."),
            OpenApiParameter("start_date", INSTANT, description="RFC 3339; default 90 days before end_date."),
            OpenApiParameter("end_date", INSTANT, description="RFC 3339; default now."),
            OpenApiParameter("status", codes(STATUSES), description="open, closed, or both (comma-separated)."),
            OpenApiParameter(
                "page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, description="Page from 1 (extension)."
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description="Requests per page, 1 to 1000 (extension, default 1000).",
            ),
            OpenApiParameter("jurisdiction_id", {"type": "string", "minLength": 1, "maxLength": 255}),
        ],
        responses=answers({"type": "array", "items": SERVICE_REQUEST}),
    )
    def get(self, request, output: str):
        output_format(output)
        reject_unknown(request.query_params, RequestsForm.base_fields)
        form = RequestsForm(data=request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        params = form.cleaned_data
        queryset = Incident.objects.all()
        if params["service_request_id"]:
            queryset = queryset.filter(pk__in=params["service_request_id"])
        else:
            end = params["end_date"] or timezone.now()
            start = params["start_date"] or end - dt.timedelta(days=DEFAULT_DAYS)
            if start > end:
                raise exceptions.ValidationError({"start_date": [_("start_date comes after end_date.")]})
            queryset = queryset.filter(first_post_at__gte=start, first_post_at__lte=end)
        if params["service_code"]:
            queryset = queryset.filter(category__in=params["service_code"])
        if params["status"] and set(params["status"]) != set(STATUSES):
            if params["status"] == ["open"]:
                queryset = queryset.filter(status__in=OPEN_STATUSES)
            else:
                queryset = queryset.exclude(status__in=OPEN_STATUSES)
        size = params["page_size"] or DEFAULT_PAGE_SIZE
        page = params["page"] or 1
        total = queryset.count()
        window = queryset.order_by("-first_post_at", "id")[(page - 1) * size : page * size]
        response = respond(request, service_requests(window, staff=sees_personal_data(request)), "service_requests")
        response["X-Total-Count"] = str(total)
        links = []
        if page * size < total:
            links.append(f'<{self.page_link(request, page + 1, size)}>; rel="next"')
        if page > 1:
            links.append(f'<{self.page_link(request, page - 1, size)}>; rel="prev"')
        if links:
            response["Link"] = ", ".join(links)
        return response

    @staticmethod
    def page_link(request, page: int, size: int) -> str:
        url = replace_query_param(request.build_absolute_uri(), "page", page)
        return replace_query_param(url, "page_size", size)

    @extend_schema(
        summary="Submit a service request (API key required)",
        tags=["open311"],
        request=PostRequestSerializer,
        parameters=[OUTPUT],
        # GeoReport v2 answers a POST with a list of one request; spectacular drops many=True.
        responses=answers({"type": "array", "items": SUBMITTED}, 401, 403, status=201),
    )  # fmt: skip
    def post(self, request, output: str):
        output_format(output)
        user = self.api_key_user(request)
        body = PostRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        post = submit_service_request(
            ServiceRequest(
                service_code=data["service_code"],
                lon=data["long"],
                lat=data["lat"],
                description=data["description"],
                email=data.get("email", ""),
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
                media_url=data.get("media_url", ""),
                device_id=data["device_id"],
                account_id=data["account_id"],
            ),
            submitted_by=user.get_username(),
        )
        notice = _("Thank you. Your report will be located and grouped with others about the same problem.")
        return respond(
            request,
            [{"token": post.external_id, "service_notice": notice, "account_id": data["account_id"] or None}],
            "service_requests",
            status=201,
        )

    def api_key_user(self, request):
        """The owner of the API key (``api_key`` field) or of the ``Authorization: Token`` header."""
        if request.user and request.user.is_authenticated:
            return request.user
        key = request.data.get("api_key") if hasattr(request.data, "get") else None
        key = key or request.query_params.get("api_key")
        if not key:
            raise exceptions.NotAuthenticated(_("Posting needs an API key (api_key)."))
        key = str(key)
        if "\x00" in key:  # PostgreSQL text cannot hold NUL: no key has one, and the lookup would fail
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        try:
            user, _token = TokenAuthentication().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed(_("This API key is not valid.")) from None
        return user


class RequestView(Open311View):
    @extend_schema(
        summary="One Open311 service request",
        tags=["open311"],
        parameters=[OUTPUT],
        responses=answers({"type": "array", "items": SERVICE_REQUEST}),
    )
    def get(self, request, request_id: str, output: str):
        output_format(output)
        reject_unknown(request.query_params, ["jurisdiction_id"])
        queryset = Incident.objects.filter(pk=parse_id(request_id))
        found = service_requests(queryset, staff=sees_personal_data(request))
        if not found:
            raise Http404(_("No service request %(id)s.") % {"id": request_id})
        return respond(request, found, "service_requests")


class TokenView(Open311View):
    @extend_schema(
        summary="The service request a token became",
        tags=["open311"],
        parameters=[OUTPUT],
        responses=answers({"type": "array", "items": {"type": "object", "properties": {
            "token": {"type": "string"}, "service_request_id": {"type": "string", "nullable": True}}}}),
    )  # fmt: skip
    def get(self, request, token: str, output: str):
        output_format(output)
        reject_unknown(request.query_params, ["jurisdiction_id"])
        # Tokens are ours (32 hex digits): anything else cannot match, and NUL bytes would upset PostgreSQL.
        valid = len(token) <= 64 and token.isalnum()
        post = valid and Post.objects.filter(source=SOURCE, external_id=token).only("incident_id").first()
        if not post:
            raise Http404(_("No request has this token."))
        incident = str(post.incident_id) if post.incident_id else None
        return respond(request, [{"token": token, "service_request_id": incident}], "service_requests")
