"""
The 1M benchmarks' data generator writes with ``COPY`` and names every column: a new NOT
NULL column breaks it, and no other test would notice (it did, once: street segments'
``layers``). Run it small against the current schema.
"""

import pytest

from bench.generate_incidents import generate
from incidents.models import Incident, IncidentWorksZone, StreetSegment, WorksZone


@pytest.mark.django_db(transaction=True)  # it ends with VACUUM ANALYZE, which no transaction may hold
def test_generate_incidents_writes_every_row_it_announces(capsys):
    generate(count=400, seed=1, replace=False, segments=50, zones=10)

    assert StreetSegment.objects.count() == 50
    assert WorksZone.objects.count() == 10
    assert Incident.objects.count() == 400
    assert IncidentWorksZone.objects.count() == 400 * 15 // 100
    assert not Incident.objects.filter(segment__isnull=True).exists()
    assert "400 incidents" in capsys.readouterr().out
