"""Atom feeds of incidents: valid RFC 4287 (its RELAX NG schema and the rules it leaves to prose), with GeoRSS points.

Validation: RFC 4287's own schema (Appendix B, ``tests/data/atom-rfc4287.rnc``, converted
with rnc2rng and checked by lxml/libxml2), then, in Python, the schema's Schematron rules
and the requirements it cannot express (author, alternate links, absolute ids, RFC 3339
dates, a self link). No Atom validator is packaged for PyPI or Debian here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rnc2rng
from django.test import Client
from lxml import etree

from incidents.services.incidents import change_incident_status
from tests.conftest import CAPITOLE, offset, paris

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "atom-rfc4287.rnc"
NS = {"atom": "http://www.w3.org/2005/Atom", "georss": "http://www.georss.org/georss"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@cache
def atom_schema() -> etree.RelaxNG:
    rng = rnc2rng.dumps(rnc2rng.load(str(SCHEMA)))
    # rnc2rng declares the empty namespace prefix (local = ""), which XML namespaces forbid;
    # its uses are written as ns="" already.
    rng = rng.replace('xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(rng.encode()))


def validate_atom(body: bytes) -> etree._Element:
    """Parse ``body`` and fail on anything RFC 4287 forbids; return the feed element."""
    feed = etree.fromstring(body)
    schema = atom_schema()
    assert schema.validate(feed), schema.error_log
    entries = feed.findall("atom:entry", NS)
    # 4.1.1: an author for the feed, or for each of its entries.
    assert feed.find("atom:author", NS) is not None or all(e.find("atom:author", NS) is not None for e in entries)
    for element in [feed, *entries]:
        alternates = [(link.get("type"), link.get("hreflang")) for link in element.findall("atom:link", NS)
                      if link.get("rel", "alternate") == "alternate"]  # fmt: skip
        assert len(alternates) == len(set(alternates)), "two alternate links of the same type and language"
        # 4.2.6: an id is an absolute IRI.
        assert urlsplit(element.findtext("atom:id", namespaces=NS)).scheme
        # 3.3: dates are RFC 3339, upper-case T and Z.
        for date in element.findall("atom:updated", NS) + element.findall("atom:published", NS):
            assert RFC3339.match(date.text), date.text
    for entry in entries:
        # 4.1.2: without content, an entry has an alternate link.
        assert entry.find("atom:content", NS) is not None or any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall("atom:link", NS)
        )
    ids = [(e.findtext("atom:id", namespaces=NS), e.findtext("atom:updated", namespaces=NS)) for e in entries]
    assert len(ids) == len(set(ids))
    # 4.2.7.2: a feed should say where it lives.
    assert feed.find("atom:link[@rel='self']", NS) is not None
    return feed


def test_the_validation_catches_what_rfc_4287_forbids():
    with pytest.raises(AssertionError):
        validate_atom(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><updated>2014</updated></feed>')
    no_author = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>urn:x</id><link rel="self" href="/f"/>'
        b"<updated>2014-09-08T09:00:00Z</updated><entry><title>e</title><id>urn:e</id>"
        b'<updated>2014-09-08T09:00:00Z</updated><link href="/e"/></entry></feed>'
    )
    with pytest.raises(AssertionError):
        validate_atom(no_author)


@pytest.fixture
def incidents(make_incident, make_segment):
    segment = make_segment("RUE DE METZ")
    return [
        make_incident(location=CAPITOLE, category="lighting", segment=segment, first_post_at=paris(2014, 9, 2)),
        make_incident(location=offset(CAPITOLE, east_m=30), category="works_obstruction"),
        make_incident(location=offset(CAPITOLE, east_m=4000), category="lighting"),
    ]


def test_incident_feed_is_valid_atom_with_georss_points_and_takes_the_rest_filters(incidents):
    response = Client().get("/feeds/incidents.atom", {"category": "lighting", "bbox": "1.43,43.59,1.46,43.61"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = validate_atom(response.content)
    (entry,) = feed.findall("atom:entry", NS)
    assert entry.findtext("atom:id", namespaces=NS).endswith(f"/api/incidents/{incidents[0].pk}/")
    assert "RUE DE METZ" in entry.findtext("atom:title", namespaces=NS)
    assert entry.find("atom:category", NS).get("term") == "lighting"
    lat, lon = (float(v) for v in entry.findtext("georss:point", namespaces=NS).split())
    assert (lat, lon) == pytest.approx((CAPITOLE.y, CAPITOLE.x), abs=1e-6)


def test_a_changed_incident_comes_first(incidents, staff_user):
    change_incident_status(incidents[2], "acknowledged", actor=staff_user)
    feed = validate_atom(Client().get("/feeds/incidents.atom").content)
    ids = [entry.findtext("atom:id", namespaces=NS) for entry in feed.findall("atom:entry", NS)]
    assert ids[0].endswith(f"/{incidents[2].pk}/")
    assert len(ids) == 3
    assert len(Client().get("/feeds/incidents.atom", {"limit": "1"}).content.split(b"<entry>")) == 2


@pytest.mark.parametrize(
    "params", [{"category": "nonsense"}, {"bbox": "1,2"}, {"unknown": "1"}, {"limit": "0"}, {"limit": "x"}]
)
def test_bad_feed_parameters_answer_400(db, params):
    response = Client().get("/feeds/incidents.atom", params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_works_zone_feed(incidents, make_works_zone):
    zone = make_works_zone(offset(CAPITOLE, east_m=20), title="Rue de Metz & co")
    response = Client().get(f"/feeds/works/{zone.pk}.atom")
    feed = validate_atom(response.content)
    assert "Rue de Metz & co" in feed.findtext("atom:title", namespaces=NS)
    assert len(feed.findall("atom:entry", NS)) == 2
    assert Client().get("/feeds/works/999999.atom").status_code == 404
    assert Client().get(f"/feeds/works/{zone.pk}.atom", {"bbox": "1,2,3,4"}).status_code == 400
