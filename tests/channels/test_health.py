"""Channel health for staff: in the admin and on the triage page; a channel failing too long is flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.models import Channel
from tests.channels.conftest import add_channel, listen_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_channels(mastodon, settings):
    """``ok`` has stored three posts; ``down`` has failed since it was added, two hours ago."""
    for n in range(3):
        mastodon.add_status(f"Panneau tordu {n}", tags=("voirie",), at=timezone.now() - dt.timedelta(seconds=30))
    add_channel("ok", "--kind", "mastodon", "--base-url", mastodon.url, "--hashtag", "voirie")
    add_channel("down", "--kind", "mastodon", "--base-url", "http://127.0.0.1:9", "--hashtag", "voirie")
    settings.INCIDENTS_LISTEN_RETRIES = 0
    with pytest.raises(Exception, match="1 channel"):
        listen_once()
    Channel.objects.filter(name="down").update(created_at=timezone.now() - dt.timedelta(hours=2))
    return Channel.objects.with_health().get(name="ok"), Channel.objects.with_health().get(name="down")


def test_health_counts_lag_and_flag(two_channels, settings):
    ok, down = two_channels
    assert (ok.posts_last_hour, ok.posts_last_day) == (3, 3)
    assert 30 <= ok.lag_s < 60  # the newest post was 30 s old when it was stored
    assert ok.trouble_since() is None
    assert down.trouble_since() == down.created_at
    assert down.failures == 1
    assert "connection failed" in down.last_error
    settings.INCIDENTS_LISTEN_FAILING_AFTER_S = 3 * 3600
    assert down.trouble_since() is None  # not failing for longer than the setting yet
    Channel.objects.filter(name="down").update(enabled=False)
    assert Channel.objects.get(name="down").trouble_since() is None  # disabled: nobody expects it to poll


def test_triage_page_shows_health_and_flags_the_failing_channel(two_channels, staff_client):
    page = staff_client.get(reverse("web:triage")).content.decode()
    assert 'id="channel-health"' in page
    ok_row = page[page.index('data-channel="ok"') :].split("</tr>")[0]
    down_row = page[page.index('data-channel="down"') :].split("</tr>")[0]
    assert "failing for" not in ok_row
    assert "<td>3</td>" in ok_row
    assert 'class="badge failing">failing for 2 h 00' in down_row
    assert "connection failed (Connection refused)" in down_row


def test_admin_lists_health_and_never_a_token(two_channels):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-admin-1")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/incidents/channel/").content.decode()
    assert "connection failed" in listing
    assert listing.count('<td class="field-failing"><img src="/static/admin/img/icon-yes.svg" alt="True">') == 1
    ok, _down = two_channels
    detail = client.get(f"/admin/incidents/channel/{ok.pk}/change/").content.decode()
    assert "tag:voirie" in detail  # its cursor, read-only
    assert "mastodon-token" not in detail
