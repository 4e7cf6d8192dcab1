"""Two processes ingesting overlapping input at the same time store every post once and agree on incidents."""

from __future__ import annotations

import json
import re
import sys

import pytest

from incidents.models import Incident, Post, PostState, Repost
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLUSTERS = 30
POSTS = 3000


def row(n: int) -> dict:
    cluster = n % CLUSTERS
    spot = offset(CAPITOLE, east_m=400 * (cluster % 6), north_m=400 * (cluster // 6))
    where = offset(spot, east_m=(n * 7) % 11, north_m=(n * 3) % 9)
    return {
        "id": f"p{n}",
        "text": "Énorme nid de poule sur la chaussée, attention en vélo",
        "posted_at": paris(2014, 9, 8, 6 + (n % 14), n % 60).isoformat(),
        "lon": where.x,
        "lat": where.y,
        "like_count": n % 5,
    }


def repost(n: int, of: int) -> dict:
    return {"id": f"rt{n}", "text": "", "posted_at": paris(2014, 9, 8, 21).isoformat(), "repost_of": f"p{of}"}


def write(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_overlapping_input_from_two_processes_is_stored_exactly_once(tmp_path):
    # A has posts 0-1999 and reposts of posts only B has; B has posts 1000-2999 and reposts of A's.
    a_rows = [row(n) for n in range(0, 2000)] + [repost(n, n) for n in range(2000, 3000, 50)]
    b_rows = [row(n) for n in range(1000, 3000)] + [repost(n, n) for n in range(0, 1000, 50)]
    write(tmp_path / "a.jsonl", a_rows)
    write(tmp_path / "b.jsonl", b_rows[::-1])  # the other way round: the overlap is met from both ends
    processes = [manage("ingest_posts", str(tmp_path / name), "--batch-size", "50") for name in ("a.jsonl", "b.jsonl")]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err

    created = [int(re.search(r"(\d[\d,]*) created", out).group(1).replace(",", "")) for out, _ in outputs]
    duplicates = [int(re.search(r"(\d[\d,]*) duplicate", out).group(1).replace(",", "")) for out, _ in outputs]
    assert sum(created) == POSTS
    assert sum(duplicates) == 1000  # the overlap, each post once as a duplicate
    assert Post.objects.count() == POSTS
    assert not Post.objects.filter(state=PostState.PENDING).exists()
    assert Repost.objects.count() == 40

    # The two processes really ran at the same time: their own posts were stored interleaved.
    def span(numbers):
        times = Post.objects.filter(external_id__in=[f"p{n}" for n in numbers]).values_list("received_at", flat=True)
        return min(times), max(times)

    only_a, only_b = span(range(0, 1000)), span(range(2000, 3000))
    assert only_a[0] < only_b[1]
    assert only_b[0] < only_a[1]

    # Every reposted original counts its one repost, whichever process stored what first.
    reposted = [*range(0, 1000, 50), *range(2000, 3000, 50)]
    originals = Post.objects.filter(external_id__in=[f"p{n}" for n in reposted])
    assert set(originals.values_list("repost_count", flat=True)) == {1}

    # One incident per problem: the grouping step is serialised across processes.
    assert Incident.objects.count() == CLUSTERS
    assert sum(Incident.objects.values_list("post_count", flat=True)) == POSTS
    expected = sum(n % 5 for n in range(POSTS)) + len(reposted)
    assert sum(Incident.objects.values_list("engagement", flat=True)) == expected


def test_store_ahead_gives_the_same_result(settings):
    """Parsing and storing in a second thread (the default outside tests) changes nothing but speed."""
    from incidents.pipeline.ingest import ingest
    from incidents.sources.columns import row_item

    def run(store_ahead: bool):
        rows = [row(n) for n in range(600)] + [repost(n, n) for n in range(0, 600, 100)]
        items = [row_item(r, position=str(i), source="ahead") for i, r in enumerate(rows)]
        report = ingest(items, batch_size=50, synchronous=True, store_ahead=store_ahead)
        counts = (report.created, report.reposts, report.batches, report.processed.incidents_created)
        grouping = sorted(Incident.objects.values_list("post_count", "engagement", "category"))
        Post.objects.all().delete()
        Repost.objects.all().delete()
        Incident.objects.all().delete()
        return counts, grouping

    switch_interval = sys.getswitchinterval()
    assert run(store_ahead=True) == run(store_ahead=False)
    # Shortened while the two threads ran (see incidents.pipeline.ingest._ahead), then given back.
    assert sys.getswitchinterval() == switch_interval
