"""The operators' triage (``/triage/``, staff): the queue and the channels' health, one incident, its status
changes and replies (with their delivery on the networks).

Every status change goes through :func:`incidents.services.incidents.change_incident_status`
(which checks the transition and records an ``IncidentEvent`` with the actor), every reply
through :func:`incidents.services.replies.send_reply` — the same services as the API
and the admin.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from incidents.categories import Affected
from incidents.models import Channel, Incident, IncidentStatus, Post, ReplyTemplate
from incidents.notify.works import notify_works
from incidents.publish.metrics import triage_metrics
from incidents.services.incidents import ALLOWED_TRANSITIONS, change_incident_status
from incidents.services.replies import fill_template, send_reply
from incidents.web.forms import ReplyForm, StatusChangeForm, TriageFilterForm

QUEUE_PAGE_SIZE = 50
METRICS_WEEKS = 12

# What each button does, in the order operators see them.
ACTION_LABELS = {
    IncidentStatus.ACKNOWLEDGED: gettext_lazy("Acknowledge"),
    IncidentStatus.DISPATCHED: gettext_lazy("Dispatch a crew"),
    IncidentStatus.RESOLVED: gettext_lazy("Resolve"),
    IncidentStatus.REJECTED: gettext_lazy("Reject"),
    IncidentStatus.DUPLICATE: gettext_lazy("Mark as duplicate"),
}


T = TypeVar("T")


def allowed_actions(incident: Incident) -> list[str]:
    return [status for status in ACTION_LABELS if status in ALLOWED_TRANSITIONS[incident.status]]


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_GET
@staff_member_required
def queue_view(request):
    form = TriageFilterForm(request.GET or None)
    incidents = form.filter(Incident.objects.triage_queue().select_related("segment", "district"))
    page = Paginator(incidents, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    end = timezone.now()
    chosen = form.cleaned_data if form.is_valid() else {}
    metrics = triage_metrics(
        end - dt.timedelta(weeks=METRICS_WEEKS),
        end,
        categories=[chosen["category"]] if chosen.get("category") else None,
        district=chosen["district"].pk if chosen.get("district") else None,
    )
    filters = request.GET.copy()
    filters.pop("page", None)
    channels = [
        (channel, (end - trouble).total_seconds() if (trouble := channel.trouble_since(end)) else None)
        for channel in Channel.objects.with_health(end)
    ]
    return render(
        request,
        "incidents/web/triage_queue.html",
        {
            "form": form,
            "page": page,
            "filters": filters.urlencode(),
            "metrics": metrics,
            "category_labels": dict(Incident._meta.get_field("category").choices),
            "acknowledge": IncidentStatus.ACKNOWLEDGED,
            "channels": channels,
        },
    )


# Replies to an incident's posts shown beside them although they are in no incident (chit-chat, questions).
MAX_REPLIES_OUTSIDE = 50


@dataclass(frozen=True)
class ThreadEntry:
    post: Post
    depth: int  # 0: answers no post shown here
    parent: Post | None
    outside: bool  # a reply to one of its posts, in no incident or another one


def conversation(incident: Incident) -> list[ThreadEntry]:
    """The incident's posts as conversations: each reply under the post it answers, in time order.

    Replies to its posts that are not in it (chit-chat, a question) are shown too, marked,
    so that staff read the whole exchange before they answer.
    """
    posts = list(incident.posts.order_by("posted_at", "id"))
    if not posts:
        return []
    ids = {(post.source, post.external_id) for post in posts}
    sources = sorted({source for source, _ in ids})
    answers = (
        Q(reply_to__in=[external for _, external in ids])
        | Q(quote_of__in=[external for _, external in ids])
        | Q(reply_to_local__in=[post.local_id for post in posts if post.local_id])
    )
    outside = list(
        Post.objects.filter(answers, source__in=sources)
        .exclude(incident=incident)
        .order_by("posted_at", "id")[:MAX_REPLIES_OUTSIDE]
    )
    shown = posts + outside
    by_key = {(post.source, "id", post.external_id): post for post in shown}
    by_key.update({(post.source, "local", post.local_id): post for post in shown if post.local_id})
    by_id = {post.pk: post for post in shown}

    def parent_of(post: Post) -> Post | None:
        if post.thread_parent_id in by_id:
            return by_id[post.thread_parent_id]
        for kind, key in (("id", post.reply_to), ("local", post.reply_to_local), ("id", post.quote_of)):
            if key and (found := by_key.get((post.source, kind, key))) is not None and found is not post:
                return found
        return None

    children: dict[int | None, list[Post]] = defaultdict(list)
    for post in shown:
        children[getattr(parent_of(post), "pk", None)].append(post)
    entries: list[ThreadEntry] = []
    outside_ids = {post.pk for post in outside}

    def walk(parent: Post | None, depth: int) -> None:
        for post in children.get(getattr(parent, "pk", None), []):
            if any(entry.post is post for entry in entries):
                continue  # a cycle in what the platforms said
            entries.append(ThreadEntry(post, depth, parent, post.pk in outside_ids))
            walk(post, depth + 1)

    walk(None, 0)
    return entries


@require_GET
@staff_member_required
def incident_view(request, pk: int):
    incident = get_object_or_404(Incident.objects.with_near_works().select_related("segment", "district"), pk=pk)
    templates = list(ReplyTemplate.objects.active())
    events = incident.events.select_related("actor").order_by("-created_at", "-id")
    replies = incident.replies.select_related("actor", "template", "channel").order_by("-created_at", "-id")
    # Status changes and replies (with their delivery) in one history, newest first.
    history = sorted(
        [("event", event) for event in events] + [("reply", reply) for reply in replies],
        key=lambda entry: entry[1].created_at,
        reverse=True,
    )
    return render(
        request,
        "incidents/web/triage_incident.html",
        {
            "incident": incident,
            "posts": conversation(incident),
            "affects": [label for code, label in Affected.choices if code in incident.affects],
            "recurrences": incident.recurrences.order_by("first_post_at", "id"),
            "street_level_m": settings.INCIDENTS_GROUP_DISTANCE_M,
            "works_links": incident.works_links.select_related("works_zone").order_by("distance_m"),
            "history": history,
            "replies": replies,
            "works_notifications": incident.works_notifications.select_related("actor", "works_zone").order_by(
                "-created_at", "-id"
            ),
            "actions": [(status, ACTION_LABELS[status]) for status in allowed_actions(incident)],
            "status_form": StatusChangeForm(),
            "reply_form": ReplyForm(incident=incident),
            "filled_templates": {str(template.pk): fill_template(template, incident) for template in templates},
            "duplicate": IncidentStatus.DUPLICATE,
            "dispatched": IncidentStatus.DISPATCHED,
        },
    )


def _flash_errors(request, errors, pk: int) -> None:
    """Show each message of a form's errors or of a service's ``ValidationError``, naming the incident."""
    if isinstance(errors, ValidationError):
        texts = errors.messages
    else:
        texts = [text for field_errors in errors.values() for text in field_errors]
    for text in texts:
        messages.error(request, f"#{pk}: {text}")


def _act(request, pk: int, action: Callable[[], T], done: Callable[[T], str]) -> None:
    """Run a service ``action`` for incident ``pk``: say ``done(result)``, or why the service refused."""
    try:
        result = action()
    except ValidationError as error:
        _flash_errors(request, error, pk)
    else:
        messages.success(request, done(result))


@require_POST
@staff_member_required
def status_view(request, pk: int):
    incident = get_object_or_404(Incident, pk=pk)
    back = _next_url(request, reverse("web:triage-incident", args=[pk]))
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form.errors, pk)
        return redirect(back)
    _act(
        request,
        pk,
        lambda: change_incident_status(
            incident,
            form.cleaned_data["status"],
            actor=request.user,
            note=form.cleaned_data["note"],
            duplicate_of=form.cleaned_data.get("original"),
        ),
        lambda _changed: (
            _("Incident #%(number)s is now %(status)s.")
            % {"number": pk, "status": incident.get_status_display().lower()}
        ),
    )
    return redirect(back)


@require_POST
@staff_member_required
def reply_view(request, pk: int):
    incident = get_object_or_404(Incident.objects.select_related("segment"), pk=pk)
    form = ReplyForm(request.POST, incident=incident)
    if not form.is_valid():
        _flash_errors(request, form.errors, pk)
    else:
        _act(
            request,
            pk,
            lambda: send_reply(
                incident, form.cleaned_data["text"], actor=request.user, template=form.cleaned_data["template"]
            ),
            lambda reply: _("Reply stored: %(state)s.") % {"state": reply.get_state_display().lower()},
        )
    return redirect(reverse("web:triage-incident", args=[pk]))


@require_POST
@staff_member_required
def notify_works_view(request, pk: int):
    """Send the incident to the contact of one of its works zones (``works_zone`` in the form)."""
    incident = get_object_or_404(Incident.objects.select_related("segment"), pk=pk)
    zone_id = request.POST.get("works_zone", "")
    zone = incident.works_zones.filter(pk=int(zone_id)).first() if zone_id.isdigit() else None
    if zone is None:
        messages.error(request, _("#%(number)s: choose one of the works zones nearby.") % {"number": pk})
    else:
        _act(
            request,
            pk,
            lambda: notify_works(incident, zone, actor=request.user),
            lambda notification: (
                _("Works notified (%(contact)s): %(state)s.")
                % {"contact": notification.contact, "state": notification.get_state_display().lower()}
            ),
        )
    return redirect(reverse("web:triage-incident", args=[pk]))
