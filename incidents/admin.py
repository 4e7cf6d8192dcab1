"""Django admin for every model, with django-leaflet map widgets (Leaflet served locally)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from incidents.models import (
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
from incidents.services.incidents import change_incident_status
from incidents.services.works import refresh_impact_areas


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
    list_display = ["incident", "state", "language", "actor", "created_at", "sent_at"]
    list_filter = ["state", "language", "backend"]
    raw_id_fields = ["incident", "in_reply_to", "template", "actor"]
    readonly_fields = ["backend", "state", "sent_at", "external_id", "error", "created_at"]

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
