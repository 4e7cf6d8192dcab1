"""Django admin for every model, with django-leaflet map widgets (Leaflet served locally)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from incidents.models import (
    Channel,
    ChannelCursor,
    District,
    Incident,
    IncidentEvent,
    IncidentReply,
    IncidentStatus,
    IncidentWorksZone,
    Post,
    PostWorksZone,
    ReplyTemplate,
    Repost,
    ServiceArea,
    StreetSegment,
    WorksZone,
)
from incidents.services.channels import set_channel_enabled
from incidents.services.incidents import change_incident_status
from incidents.services.works import refresh_impact_areas
from incidents.templatetags.incidents_web import duration


@admin.register(StreetSegment)
class StreetSegmentAdmin(LeafletGeoAdmin):
    list_display = ["name", "commune", "street_id", "length_m", "source", "source_id", "retired_at"]
    list_filter = ["source", ("retired_at", admin.EmptyFieldListFilter), "commune"]
    search_fields = ["name", "name_normalized", "street_id", "source_id"]
    readonly_fields = ["name_normalized", "length_m", "layers", "retired_at", "created_at", "updated_at"]


@admin.register(WorksZone)
class WorksZoneAdmin(LeafletGeoAdmin):
    list_display = ["__str__", "commune", "starts_at", "ends_at", "impact_pedestrian", "impact_closure", "source"]
    list_filter = ["source", "impact_pedestrian", "impact_vehicle", "impact_cycle", "impact_closure", "commune"]
    search_fields = ["title", "reference", "description", "declarant", "contractor", "source_id"]
    date_hierarchy = "starts_at"
    readonly_fields = ["impact_area", "first_seen_at", "last_seen_at", "created_at", "updated_at"]
    actions = ["recompute_impact_areas"]

    @admin.action(description=_("Recompute the impact area of the selected zones"))
    def recompute_impact_areas(self, request, queryset):
        count = refresh_impact_areas(queryset)
        self.message_user(request, _("%(count)d impact areas recomputed.") % {"count": count})


class PostWorksZoneInline(admin.TabularInline):
    model = PostWorksZone
    extra = 0
    raw_id_fields = ["works_zone"]


@admin.register(Post)
class PostAdmin(LeafletGeoAdmin):
    list_display = ["__str__", "posted_at", "state", "category", "location_method", "incident"]
    list_filter = ["source", "state", "category", "location_method", "language"]
    search_fields = ["text", "external_id", "author_handle"]
    date_hierarchy = "posted_at"
    raw_id_fields = ["segment", "incident"]
    readonly_fields = ["received_at", "processed_at"]
    inlines = [PostWorksZoneInline]


class IncidentWorksZoneInline(admin.TabularInline):
    model = IncidentWorksZone
    extra = 0
    raw_id_fields = ["works_zone"]


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "note", "created_at"]

    def has_add_permission(self, request, obj=None):
        # Status changes go through the service (the actions below), never a bare row.
        return False


def _status_action(to_status: str, label: str):
    def action(modeladmin, request, queryset):
        changed = 0
        for incident in queryset:
            try:
                change_incident_status(incident, to_status, actor=request.user, note=_("From the admin."))
            except ValidationError as error:
                modeladmin.message_user(request, f"#{incident.pk}: {'; '.join(error.messages)}", messages.WARNING)
            else:
                changed += 1
        modeladmin.message_user(request, _("%(count)d incidents changed.") % {"count": changed})

    action.__name__ = f"mark_{to_status}"
    return admin.action(description=label)(action)


@admin.register(Incident)
class IncidentAdmin(LeafletGeoAdmin):
    list_display = ["__str__", "status", "category", "post_count", "priority", "last_post_at", "district"]
    list_filter = ["status", "category", "district"]
    date_hierarchy = "last_post_at"
    raw_id_fields = ["segment", "duplicate_of", "district"]
    # Status is changed through the actions, which record an IncidentEvent.
    readonly_fields = ["status", "duplicate_of", "created_at", "updated_at"]
    inlines = [IncidentWorksZoneInline, IncidentEventInline]
    actions = [
        _status_action(IncidentStatus.ACKNOWLEDGED, _("Acknowledge")),
        _status_action(IncidentStatus.DISPATCHED, _("Dispatch a crew")),
        _status_action(IncidentStatus.RESOLVED, _("Resolve")),
        _status_action(IncidentStatus.REJECTED, _("Reject")),
    ]


@admin.register(IncidentEvent)
class IncidentEventAdmin(admin.ModelAdmin):
    list_display = ["incident", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["to_status"]
    raw_id_fields = ["incident", "actor"]

    def has_change_permission(self, request, obj=None):
        return False  # history is append-only


@admin.register(District)
class DistrictAdmin(LeafletGeoAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(LeafletGeoAdmin):
    list_display = ["name", "source", "updated_at"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "is_active", "position", "updated_at"]
    list_filter = ["language", "is_active"]
    list_editable = ["is_active", "position"]
    search_fields = ["name", "body"]


@admin.register(IncidentReply)
class IncidentReplyAdmin(admin.ModelAdmin):
    list_display = ["incident", "state", "channel", "language", "actor", "created_at", "sent_at", "attempts"]
    list_filter = ["state", "language", "channel", "backend"]
    raw_id_fields = ["incident", "in_reply_to", "template", "actor"]
    readonly_fields = [
        "backend", "channel", "state", "sent_at", "external_id", "url", "attempts", "next_attempt_at", "error",
        "created_at",
    ]  # fmt: skip

    def has_change_permission(self, request, obj=None):
        return False  # a reply once recorded (and maybe sent) is history


@admin.register(Repost)
class RepostAdmin(admin.ModelAdmin):
    """Reposts are counted, not edited: they come from the sources."""

    list_display = ["__str__", "posted_at", "author_handle", "received_at"]
    list_filter = ["source"]
    search_fields = ["external_id", "original_external_id", "author_handle"]
    date_hierarchy = "posted_at"
    readonly_fields = [field.name for field in Repost._meta.fields]

    def has_add_permission(self, request):
        return False


class ChannelCursorInline(admin.TabularInline):
    model = ChannelCursor
    extra = 0
    can_delete = False
    readonly_fields = ["stream", "state", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False  # cursors are the listener's: it moves them only after storing


HEALTH_FIELDS = [
    "last_poll_at", "last_success_at", "next_poll_at", "failures", "lag_s", "last_error", "last_error_at",
    "last_rejection",
]  # fmt: skip


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """What the city follows on each network, and how each channel fares (tokens stay in the environment)."""

    list_display = [
        "name", "kind", "enabled", "last_success_at", "lag", "posts_last_hour", "posts_last_day", "failing",
        "last_error",
    ]  # fmt: skip
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "base_url", "account"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "base_url", "enabled"]}),
        (_("What it reads"), {"fields": ["hashtags", "queries", "mentions", "since", "interval_s"]}),
        (_("Account"), {"fields": ["account", "token_env"]}),
        (_("Health"), {"fields": [*HEALTH_FIELDS, "created_at"]}),
    ]
    readonly_fields = [*HEALTH_FIELDS, "created_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [ChannelCursorInline]
    actions = ["enable", "disable"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_health()

    @admin.display(description=_("lag"))
    def lag(self, channel: Channel) -> str:
        return duration(channel.lag_s)

    @admin.display(description=_("posts, last hour"), ordering="posts_last_hour")
    def posts_last_hour(self, channel: Channel) -> int:
        return channel.posts_last_hour

    @admin.display(description=_("posts, last day"), ordering="posts_last_day")
    def posts_last_day(self, channel: Channel) -> int:
        return channel.posts_last_day

    @admin.display(description=_("failing"), boolean=True)
    def failing(self, channel: Channel) -> bool:
        return channel.trouble_since(timezone.now()) is not None

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        for channel in queryset:
            set_channel_enabled(channel.name, enabled)
        self.message_user(request, _("%(count)d channels changed.") % {"count": len(queryset)})

    @admin.action(description=_("Enable the selected channels"))
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable the selected channels"))
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)
