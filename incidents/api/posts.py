"""
``POST /api/posts/``: push posts into the pipeline (token-authenticated).

The body is one post or an array of posts. By default each post uses the documented
column set (:mod:`incidents.sources.columns`: ``id``, ``text``, ``posted_at``, ``lon``,
``lat`` ...); ``?input=x`` takes X API v2 response objects and ``?input=mastodon``
Mastodon statuses instead. The answer says, per item, ``created``, ``duplicate``,
``repost`` (counted as engagement of its original) or ``rejected`` with the reason.
It is given once the posts are stored; locating and grouping follow (at once, or in a
Celery worker when ``CELERY_BROKER_URL`` is set).

The caller authenticates with a DRF token (``Authorization: Token <key>``, created with
``manage.py drf_create_token <user>``) whose user has the ``incidents.add_post``
permission.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.parsers import JSONParser
from incidents.inputs import RecordError
from incidents.pipeline.ingest import ingest
from incidents.sources import columns, mastodon, x
from incidents.sources.parsing import source_name

INPUTS = {"posts": (columns, "api"), "x": (x, x.FORMAT), "mastodon": (mastodon, mastodon.FORMAT)}


class CanAddPosts(BasePermission):
    message = _("This account may not add posts: it needs the 'incidents.add_post' permission.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("incidents.add_post"))


class PostInputSerializer(serializers.Serializer):
    """The documented column set (for the API schema; parsing is shared with CSV and JSON lines)."""

    id = serializers.CharField(help_text=_("Identifier of the post on its source."))
    text = serializers.CharField(help_text=_("What was posted (may be empty for a repost)."))
    posted_at = serializers.DateTimeField(help_text=_("ISO 8601; without an offset, the city's local time."))
    lon = serializers.FloatField(required=False, help_text=_("WGS84 longitude given by the device."))
    lat = serializers.FloatField(required=False, help_text=_("WGS84 latitude given by the device."))
    author = serializers.CharField(required=False)
    author_id = serializers.CharField(required=False)
    url = serializers.URLField(required=False)
    language = serializers.CharField(required=False, help_text=_("BCP 47 code, e.g. 'fr'."))
    media_urls = serializers.ListField(child=serializers.URLField(), required=False)
    like_count = serializers.IntegerField(required=False, min_value=0)
    repost_count = serializers.IntegerField(required=False, min_value=0)
    reply_count = serializers.IntegerField(required=False, min_value=0)
    quote_count = serializers.IntegerField(required=False, min_value=0)
    repost_of = serializers.CharField(required=False, help_text=_("Id of the reposted post: this is a repost."))
    quote_of = serializers.CharField(required=False)
    reply_to = serializers.CharField(required=False)
    place_name = serializers.CharField(required=False)
    place_type = serializers.CharField(required=False)
    place_bbox = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        required=False,
        help_text=_("min_lon, min_lat, max_lon, max_lat"),
    )
    source = serializers.CharField(required=False, help_text=_("Source name (default 'api')."))


ITEM_FIELDS = {
    "index": serializers.IntegerField(help_text=_("Position of the item in the request array.")),
    "position": serializers.CharField(),
    "status": serializers.ChoiceField(["created", "duplicate", "repost", "rejected"]),
    "source": serializers.CharField(required=False),
    "external_id": serializers.CharField(),
    "id": serializers.IntegerField(required=False, help_text=_("Stored post id.")),
    "reason": serializers.CharField(required=False, help_text=_("Why the item was rejected.")),
}
IngestResultSerializer = inline_serializer(
    "PostIngestResult",
    {
        "created": serializers.IntegerField(),
        "duplicate": serializers.IntegerField(),
        "repost": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "items": inline_serializer("PostIngestItem", ITEM_FIELDS, many=True),
    },
)


class PostIngestView(APIView):
    """Store posts pushed by a trusted feeder and send them through the pipeline."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated, CanAddPosts]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="posts_ingest",
        summary=_("Push one post or a batch"),
        request=PostInputSerializer(many=True),
        responses={
            201: IngestResultSerializer,
            200: IngestResultSerializer,
            400: OpenApiTypes.OBJECT,
            401: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
        parameters=[
            OpenApiParameter("input", str, enum=list(INPUTS), description=_("Body format (default: posts).")),
            OpenApiParameter("source", str, description=_("Source name for items that do not give one.")),
        ],
        tags=["ingest"],
    )
    def post(self, request: Request) -> Response:
        kind = request.query_params.get("input", "posts")
        if kind not in INPUTS:
            raise ValidationError({"input": _("Use one of: %(inputs)s.") % {"inputs": ", ".join(INPUTS)}})
        module, default = INPUTS[kind]
        try:
            source = source_name(request.query_params["source"]) if request.query_params.get("source") else default
        except RecordError as error:
            raise ValidationError({"source": str(error)}) from None
        data = request.data
        single = not isinstance(data, list)
        documents = [data] if single else data
        if single and not isinstance(data, dict):
            # A 400 body is an object, as documented (a bare message would be rendered as a list).
            raise ParseError(_("Send a JSON object (one post) or an array of posts."))
        if len(documents) > settings.INCIDENTS_API_MAX_BATCH:
            raise ParseError(
                _("At most %(max)d posts per request; split the batch.") % {"max": settings.INCIDENTS_API_MAX_BATCH}
            )

        indexed = [
            (index, item)
            for index, document in enumerate(documents)
            for item in module.parse_document(document, position="" if single else f"[{index}]", source=source)
        ]
        report = ingest([item for _, item in indexed], keep_results=True)
        items = [
            {"index": index, "position": item.position, **result.as_dict()}
            for (index, item), result in zip(indexed, report.results, strict=True)
        ]
        body = {
            "created": report.created,
            "duplicate": report.duplicate,
            "repost": report.reposts,
            "rejected": report.rejected,
            "items": items,
        }
        if report.created:
            code = status.HTTP_201_CREATED
        elif single and kind == "posts" and report.rejected:
            code = status.HTTP_400_BAD_REQUEST
        else:
            code = status.HTTP_200_OK
        return Response(body, status=code)
