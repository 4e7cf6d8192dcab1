from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.db.models import Value
from django.utils.translation import gettext_lazy as _

from incidents.categories import Category
from incidents.geo import DistanceMetres, Geography, WithinMetres, point_value
from incidents.models.common import affects_field, optional_link, optional_text, segment_distance_field


class LocationMethod(models.TextChoices):
    GPS = "gps", _("GPS coordinates")
    TEXT = "text", _("Street names in the text")
    PLACE = "place", _("Place bounding box")
    THREAD = "thread", _("The post it answers")
    NONE = "none", _("Not located")


class PostState(models.TextChoices):
    PENDING = "pending", _("Waiting for the pipeline")
    LOCATED = "located", _("Located")
    UNLOCATED = "unlocated", _("Could not be located")
    OUT_OF_AREA = "out_of_area", _("Outside the service area")
    IRRELEVANT = "irrelevant", _("Not about public space")


class PostQuerySet(models.QuerySet["Post"]):
    def near(self, point: GEOSGeometry, metres: float) -> PostQuerySet:
        target = point_value(point)
        return (
            self.filter(WithinMetres("location", target, metres))
            .annotate(distance_m=DistanceMetres("location", target))
            .order_by("distance_m")
        )

    def located(self) -> PostQuerySet:
        return self.filter(state=PostState.LOCATED)

    def pending(self) -> PostQuerySet:
        return self.filter(state=PostState.PENDING)


class Post(models.Model):
    """A public social post (or a citizen report) as received, exactly once per source."""

    source = models.CharField(
        _("source"),
        max_length=32,
        help_text=_("Platform or feed: x, mastodon, csv, jsonl, api, open311, or a name given at ingest."),
    )
    external_id = models.CharField(_("external id"), max_length=255, help_text=_("Identifier on the source."))
    url = models.URLField(_("URL"), max_length=1000, blank=True, help_text=_("Personal data: staff only."))
    author_handle = models.CharField(
        _("author handle"), max_length=255, blank=True, help_text=_("Personal data: staff only.")
    )
    author_id = models.CharField(_("author id"), max_length=255, blank=True, help_text=_("Personal data: staff only."))
    text = models.TextField(_("text"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True, help_text=_("BCP 47 code, e.g. 'fr'."))
    media_urls = ArrayField(models.URLField(max_length=1000), default=list, blank=True, verbose_name=_("media URLs"))
    posted_at = models.DateTimeField(_("posted at"), db_index=True)
    like_count = models.PositiveIntegerField(_("likes"), default=0)
    repost_count = models.PositiveIntegerField(_("reposts"), default=0)
    reply_count = models.PositiveIntegerField(_("replies"), default=0)
    quote_count = models.PositiveIntegerField(_("quotes"), default=0)
    repost_of = models.CharField(
        _("repost of"), max_length=255, blank=True, help_text=_("External id of the reposted post, same source.")
    )
    quote_of = models.CharField(
        _("quote of"), max_length=255, blank=True, help_text=_("External id of the quoted post, same source.")
    )
    reply_to = models.CharField(
        _("reply to"), max_length=255, blank=True, help_text=_("External id of the post replied to, same source.")
    )
    # Mastodon names the status replied to by its id on the instance the reply was read from,
    # while statuses are stored under their URI: both ids are kept to find one from the other.
    reply_to_local = optional_text(
        _("reply to (instance id)"),
        max_length=64,
        help_text=_("Mastodon: id of the status replied to on the instance it was read from (in_reply_to_id)."),
    )
    # Equal to author_id: the author continues their own report (incidents.pipeline.thread).
    reply_to_author = optional_text(
        _("replies to account"),
        max_length=255,
        help_text=_(
            "Account of the post replied to, named as author_id names authors (X in_reply_to_user_id, "
            "Mastodon the profile URL of in_reply_to_account_id, Bluesky the parent's DID); the author's "
            "own: a self-reply."
        ),
    )
    local_id = optional_text(
        _("instance id"),
        max_length=64,
        help_text=_("Mastodon: id of the status on the instance it was read from; replies name it."),
    )
    thread_root = optional_text(
        _("conversation"),
        max_length=255,
        help_text=_("External id of the first post of its conversation (X conversation_id, Bluesky root)."),
    )
    raw = models.JSONField(_("raw payload"), default=dict, blank=True, help_text=_("As received. Staff only."))
    # What the platform said about where the post is, kept as received so that the
    # locator can run again (a Celery worker, a better locator) without the original file.
    gps_location = models.PointField(
        _("GPS location"),
        srid=4326,
        null=True,
        blank=True,
        spatial_index=False,  # an input, never searched: no index to maintain on every write
        help_text=_("Coordinates attached by the device, as received (WGS84)."),
    )
    place_name = models.CharField(
        _("place"), max_length=255, blank=True, default="", db_default="", help_text=_("Place named by the platform.")
    )
    place_type = optional_text(
        _("place type"),
        max_length=32,
        help_text=_("X place type: poi, neighborhood, city, admin, country."),
    )
    place_bbox = models.PolygonField(
        _("place bounding box"),
        srid=4326,
        null=True,
        blank=True,
        spatial_index=False,
        help_text=_("Bounding box of the place (WGS84)."),
    )
    declared_category = optional_text(
        _("declared category"),
        max_length=32,
        choices=Category.choices,
        help_text=_("Category the reporter chose (an Open311 service code); it decides over the classifier."),
    )

    # One spatial index, on the geography (Meta.indexes): every query on posts measures metres.
    # A second one on the geometry served no query and cost a GiST insert at each write.
    location = models.PointField(_("location"), srid=4326, null=True, blank=True, spatial_index=False)
    location_method = models.CharField(
        _("location method"), max_length=8, choices=LocationMethod.choices, default=LocationMethod.NONE
    )
    location_accuracy_m = models.FloatField(
        _("location accuracy"), null=True, blank=True, help_text=_("Estimated radius of the location error, metres.")
    )
    location_text = models.CharField(
        _("matched text"), max_length=500, blank=True, help_text=_("The words or place the location came from.")
    )
    location_note = optional_text(
        _("location note"),
        max_length=255,
        help_text=_("Why the location is coarse or missing, e.g. 'name exists in 3 communes'."),
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    category_evidence = ArrayField(
        models.CharField(max_length=200),
        default=list,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=200))),
        blank=True,
        verbose_name=_("category evidence"),
        help_text=_("Words or rules that decided the category."),
    )
    category_score = models.FloatField(_("category score"), null=True, blank=True, help_text=_("0 to 1."))
    relevance = models.FloatField(
        _("relevance"), null=True, blank=True, help_text=_("Likelihood the post is about public space, 0 to 1.")
    )
    affects = affects_field(_("Who the text says the problem harms."))
    # Indexed only where it is selective: pending posts (see Meta.indexes). Every index of
    # this table is written twice per post (stored, then processed).
    state = models.CharField(_("state"), max_length=16, choices=PostState.choices, default=PostState.PENDING)
    segment = optional_link(
        "incidents.StreetSegment",
        _("street segment"),
        related_name="posts",
    )
    segment_distance_m = segment_distance_field(_("Metres from the location to the segment."))
    works_zones = models.ManyToManyField(
        "incidents.WorksZone", through="incidents.PostWorksZone", related_name="posts", blank=True
    )
    incident = optional_link(
        "incidents.Incident",
        _("incident"),
        db_index=False,  # post_incident_posted_idx starts with it
        related_name="posts",
    )
    # A reply with no place of its own takes its parent's place and incident (method "thread").
    thread_parent = optional_link(
        "self",
        _("located by the post it answers"),
        editable=False,
        db_index=False,  # only followed from the reply
        related_name="+",
        help_text=_("The post of its conversation whose place and incident it took."),
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-posted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="post_unique_source_external_id"),
            models.CheckConstraint(
                condition=~models.Q(state="located") | models.Q(location__isnull=False),
                name="post_located_has_location",
            ),
            models.CheckConstraint(
                condition=models.Q(location_method="none", location__isnull=True)
                | (~models.Q(location_method="none") & models.Q(location__isnull=False)),
                name="post_location_method_matches_location",
            ),
            models.CheckConstraint(
                condition=models.Q(location_accuracy_m__isnull=True) | models.Q(location_accuracy_m__gte=0),
                name="post_accuracy_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(relevance__isnull=True) | models.Q(relevance__gte=0, relevance__lte=1),
                name="post_relevance_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(category_score__isnull=True)
                | models.Q(category_score__gte=0, category_score__lte=1),
                name="post_category_score_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(segment_distance_m__isnull=True) | models.Q(segment_distance_m__gte=0),
                name="post_segment_distance_non_negative",
            ),
            # (A reply keeps its place if the post it took it from is deleted: SET_NULL.)
            models.CheckConstraint(
                condition=models.Q(thread_parent__isnull=True) | models.Q(location_method=LocationMethod.THREAD),
                name="post_thread_parent_means_thread",
            ),
        ]
        indexes = [
            GistIndex(Geography("location"), name="post_location_geog_gist"),
            models.Index(fields=["incident", "posted_at"], name="post_incident_posted_idx"),
            # The posts still waiting for the pipeline, oldest first (incidents.pipeline.ingest.pending_post_ids).
            models.Index(
                fields=["posted_at", "id"], condition=models.Q(state=PostState.PENDING), name="post_pending_idx"
            ),
            # Conversations (incidents.pipeline.thread): a parent by its instance id, and the
            # replies that may still take a place from a post that arrives. Partial: replies only.
            models.Index(fields=["source", "local_id"], condition=~models.Q(local_id=""), name="post_local_id_idx"),
            *(
                models.Index(
                    fields=["source", reference],
                    condition=~models.Q(**{reference: ""})
                    & models.Q(location_method__in=[LocationMethod.NONE, LocationMethod.THREAD]),
                    name=f"post_{reference}_open_idx",
                )
                for reference in ("reply_to", "quote_of", "reply_to_local", "thread_root")
            ),
            # The Mastodon replies read from another instance than their parent, by the
            # parent's author: they may take a place from that author's next report.
            models.Index(
                fields=["source", "reply_to_author"],
                condition=~models.Q(reply_to_author="")
                & ~models.Q(reply_to_local="")
                & models.Q(reply_to="")
                & models.Q(location_method__in=[LocationMethod.NONE, LocationMethod.THREAD]),
                name="post_reply_to_author_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def engagement(self) -> int:
        return self.like_count + self.repost_count + self.reply_count + self.quote_count


class PostWorksZone(models.Model):
    """A works zone active near a post when it was posted."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="works_links")
    works_zone = models.ForeignKey("incidents.WorksZone", on_delete=models.CASCADE, related_name="post_links")
    distance_m = models.FloatField(_("distance"), help_text=_("Metres from the post to the zone's impact area."))

    class Meta:
        verbose_name = _("post works zone link")
        verbose_name_plural = _("post works zone links")
        constraints = [
            models.UniqueConstraint(fields=["post", "works_zone"], name="postworkszone_unique"),
            models.CheckConstraint(condition=models.Q(distance_m__gte=0), name="postworkszone_distance_non_negative"),
        ]


class RepostQuerySet(models.QuerySet["Repost"]):
    def of(self, source: str, external_id: str) -> RepostQuerySet:
        return self.filter(source=source, original_external_id=external_id)


class Repost(models.Model):
    """A repost (retweet, boost) seen once: engagement for the original, never a post of its own.

    Kept even when the original has not arrived yet, so that its repost count is right
    whichever arrives first: the original's ``repost_count`` is the larger of what the
    platform reported and the reposts seen here.
    """

    source = models.CharField(_("source"), max_length=32, help_text=_("Same source as the original post."))
    external_id = models.CharField(_("external id"), max_length=255, help_text=_("Identifier of the repost itself."))
    original_external_id = models.CharField(
        _("original external id"), max_length=255, help_text=_("External id of the reposted post, same source.")
    )
    author_handle = models.CharField(
        _("author handle"), max_length=255, blank=True, help_text=_("Personal data: staff only.")
    )
    author_id = models.CharField(_("author id"), max_length=255, blank=True, help_text=_("Personal data: staff only."))
    posted_at = models.DateTimeField(_("posted at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = RepostQuerySet.as_manager()

    class Meta:
        verbose_name = _("repost")
        verbose_name_plural = _("reposts")
        ordering = ["-posted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="repost_unique_source_external_id"),
            models.CheckConstraint(
                condition=~models.Q(external_id=models.F("original_external_id")), name="repost_not_of_itself"
            ),
        ]
        indexes = [models.Index(fields=["source", "original_external_id"], name="repost_original_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} → {self.original_external_id}"
