"""``/api/subscriptions/``: a signed-in user's own subscriptions (token or session), nobody else's.

Reads and writes go through the same service as the page
(:mod:`incidents.services.subscriptions`). ``area`` is a GeoJSON Polygon (WGS84) or null;
``paused`` can be set to pause or resume. Another user's subscription is a 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_gis.fields import GeometryField

from incidents.api.rest import parse_id
from incidents.api.schema import ref
from incidents.categories import Affected, Category
from incidents.models import District, EmailMode, Subscription, WorksZone
from incidents.services.subscriptions import (
    SubscriptionData,
    pause_subscription,
    resume_subscription,
    save_subscription,
)


class PolygonField(GeometryField):
    """A GeoJSON Polygon in WGS84; any other geometry is refused."""

    def to_internal_value(self, value):
        geometry = super().to_internal_value(value)
        if geometry.geom_type != "Polygon":
            raise serializers.ValidationError("Give a GeoJSON Polygon.")
        geometry.srid = 4326
        return geometry


class SubscriptionSerializer(serializers.ModelSerializer):
    works_zone = serializers.PrimaryKeyRelatedField(queryset=WorksZone.objects.all(), allow_null=True, required=False)
    district = serializers.PrimaryKeyRelatedField(queryset=District.objects.all(), allow_null=True, required=False)
    area = PolygonField(allow_null=True, required=False)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), required=False)
    affected = serializers.ListField(child=serializers.ChoiceField(choices=Affected.choices), required=False)
    email_mode = serializers.ChoiceField(choices=EmailMode.choices, required=False)
    webhook_url = serializers.URLField(max_length=1000, allow_blank=True, required=False)
    webhook_secret = serializers.CharField(max_length=128, allow_blank=True, required=False)
    paused = serializers.BooleanField(required=False, help_text="True while nothing is delivered.")

    class Meta:
        model = Subscription
        fields = [
            "id", "works_zone", "district", "area", "categories", "affected", "email", "email_mode",
            "webhook_url", "webhook_secret", "language", "paused", "pause_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["language", "pause_reason", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["paused"] = instance.is_paused
        return data

    def data_for(self, instance: Subscription | None) -> SubscriptionData:
        """The service's input: what the request gives, the rest as stored (or the defaults)."""
        given = self.validated_data
        current = SubscriptionData() if instance is None else SubscriptionData(
            works_zone=instance.works_zone, district=instance.district, area=instance.area,
            categories=list(instance.categories), affected=list(instance.affected), email=instance.email,
            email_mode=instance.email_mode, webhook_url=instance.webhook_url, webhook_secret=instance.webhook_secret,
        )  # fmt: skip
        for name in vars(current):
            if name in given:
                setattr(current, name, given[name])
        return current


_REFUSED = {401: ref("Error"), 429: ref("Error")}
_MISSING = {404: ref("Error")}
_INVALID = {400: ref("Error")}


@extend_schema_view(
    list=extend_schema(summary="Your subscriptions", responses={200: SubscriptionSerializer(many=True), **_REFUSED}),
    create=extend_schema(
        summary="Subscribe to incidents in a place", responses={201: SubscriptionSerializer, **_INVALID, **_REFUSED}
    ),
    retrieve=extend_schema(
        summary="One of your subscriptions", responses={200: SubscriptionSerializer, **_MISSING, **_REFUSED}
    ),
    update=extend_schema(
        summary="Change one of your subscriptions",
        responses={200: SubscriptionSerializer, **_INVALID, **_MISSING, **_REFUSED},
    ),
    partial_update=extend_schema(
        summary="Change some fields of one of your subscriptions",
        responses={200: SubscriptionSerializer, **_INVALID, **_MISSING, **_REFUSED},
    ),
    destroy=extend_schema(summary="Delete one of your subscriptions", responses={204: None, **_MISSING, **_REFUSED}),
)
class SubscriptionViewSet(viewsets.ViewSet):
    """Owner only: each user sees and changes their own subscriptions."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer]
    serializer_class = SubscriptionSerializer
    lookup_value_regex = r"[^/]+"

    def _own(self, pk) -> Subscription:
        subscription = Subscription.objects.of(self.request.user).filter(pk=parse_id(pk)).first()
        if subscription is None:
            raise Http404
        return subscription

    def _save(self, request, instance: Subscription | None, *, partial: bool) -> Subscription:
        body = SubscriptionSerializer(instance, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        try:
            subscription = save_subscription(request.user, body.data_for(instance), instance)
        except DjangoValidationError as error:
            if not hasattr(error, "error_dict"):
                raise ValidationError(error.messages) from None
            fields = {
                ("non_field_errors" if name == "__all__" else name): texts for name, texts in error.message_dict.items()
            }
            raise ValidationError(fields) from None
        paused = body.validated_data.get("paused")
        if paused is True and not subscription.is_paused:
            pause_subscription(subscription, "Paused by its owner.")
        elif paused is False and subscription.is_paused:
            resume_subscription(subscription)
        return subscription

    def list(self, request):
        rows = Subscription.objects.of(request.user).order_by("id")
        return Response(SubscriptionSerializer(rows, many=True).data)

    def create(self, request):
        subscription = self._save(request, None, partial=False)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(SubscriptionSerializer(self._own(pk)).data)

    def update(self, request, pk=None):
        return Response(SubscriptionSerializer(self._save(request, self._own(pk), partial=False)).data)

    def partial_update(self, request, pk=None):
        return Response(SubscriptionSerializer(self._save(request, self._own(pk), partial=True)).data)

    def destroy(self, request, pk=None):
        self._own(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
