"""The Toulouse demo (``manage.py load_demo``): real open data from ``fixtures/``, in steps.

Each step is a :class:`DemoStep`: a label and a function that takes the
:class:`DemoContext` and returns a one-line summary. Steps go through the same services
as the import commands, so the demo is idempotent: a second run reads the files again,
finds nothing changed and writes nothing. Adding a step is one line in
:data:`DEMO_STEPS`.

Street layers: ``sens-de-circulation`` and ``zones-de-rencontre`` number their segments
in the same ``id_seg_ges`` space (scoped by commune). They are imported together, as
one source ``toulouse``: a segment present in both layers is stored once, with the
attributes of both (``sens-de-circulation`` first), and the zone-de-rencontre
attributes (``type``, ``sensunique``, ``doublesens_cyclable``) tell which segments are
shared spaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from incidents.importers import ImportResult, import_districts, import_streets, import_works
from incidents.inputs import read_paths
from incidents.models import ServiceArea
from incidents.pipeline.ingest import IngestReport, ingest
from incidents.services.areas import set_service_area_from_districts, set_service_area_from_streets
from incidents.sources.reader import open_file

FIXTURES = settings.BASE_DIR / "fixtures"
TOULOUSE = "toulouse"
DISTRICTS_FILE = "toulouse/toulouse_grands_quartiers_insee2019.geojson"
STREET_FILES = ("toulouse/sens-de-circulation.geojson", "toulouse/zones-de-rencontre.geojson")
WORKS_FILES = ("toulouse/chantiers-en-cours_2014_daily_snapshots.json", "toulouse/chantiers-en-cours_2026_sample.json")
SERVICE_AREAS = ("city", "streets")
# The demo posts, written by scripts/generate_demo_posts.py: one file per real input format;
# truth.csv (the problem each post is about) is for evaluation.
DEMO_POSTS_DIR = FIXTURES / "demo_posts"
DEMO_POST_FILES = ("x_recent_search.jsonl", "mastodon_statuses.jsonl", "citizen_reports.csv")


@dataclass
class DemoContext:
    """What the steps share: where the fixtures are and what the previous steps did."""

    fixtures: Path = FIXTURES
    results: dict[str, ImportResult] = field(default_factory=dict)

    def paths(self, *names: str) -> list[str]:
        return [str(self.fixtures / name) for name in names]


@dataclass(frozen=True)
class DemoStep:
    label: str
    run: Callable[[DemoContext], str]


def load_districts(context: DemoContext) -> str:
    """The 60 INSEE "grands quartiers" of Toulouse."""
    result = import_districts(read_paths(context.paths(DISTRICTS_FILE)))
    context.results["districts"] = result
    return result.summary()


def load_streets(context: DemoContext) -> str:
    """Both Toulouse street layers, as one network (see the module docstring)."""
    result = import_streets(read_paths(context.paths(*STREET_FILES)), format="toulouse", source=TOULOUSE)
    context.results["streets"] = result
    return result.summary()


def load_works(context: DemoContext) -> str:
    """The 2014 daily snapshots, then the three 2026 records of the current API shape."""
    summaries = []
    for name in WORKS_FILES:
        result = import_works(read_paths(context.paths(name)), format="toulouse", source=TOULOUSE)
        context.results[f"works {name}"] = result
        summaries.append(result.summary())
    return "\n".join(summaries)


def set_service_area(context: DemoContext) -> str:
    """The union of the districts plus the streets' surroundings, recomputed only when they changed."""
    changed = any(context.results[name].changed for name in ("districts", "streets") if name in context.results)
    missing = ServiceArea.objects.filter(name__in=SERVICE_AREAS).count() < len(SERVICE_AREAS)
    if not (changed or missing):
        return str(_("unchanged"))
    areas = [set_service_area_from_districts(SERVICE_AREAS[0]), set_service_area_from_streets(SERVICE_AREAS[1])]
    return str(_("set: %(areas)s") % {"areas": ", ".join(area.name for area in areas if area is not None)})


def load_demo_posts(directory: Path | None = None) -> IngestReport:
    """Ingest the demo posts through the whole pipeline, here and now, and return the counts.

    Load the streets, works and districts first: posts are linked to what is loaded.
    Safe to run again: posts already stored are counted as duplicates and change nothing.
    """
    directory = directory or DEMO_POSTS_DIR
    total = IngestReport()
    for name in DEMO_POST_FILES:
        source_input = open_file(directory / name)
        total.merge(ingest(source_input.items, synchronous=True))
    return total


def load_posts(context: DemoContext) -> str:
    """The generated posts (X, Mastodon, citizen form), through the whole pipeline into incidents."""
    report = load_demo_posts()
    return _(
        "%(created)d posts created, %(duplicate)d already stored, %(reposts)d reposts, %(incidents)d incidents created"
    ) % {
        "created": report.created,
        "duplicate": report.duplicate,
        "reposts": report.reposts,
        "incidents": report.processed.incidents_created,
    }


DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep(_("districts"), load_districts),
    DemoStep(_("streets"), load_streets),
    DemoStep(_("service area"), set_service_area),
    DemoStep(_("works"), load_works),
    DemoStep(_("posts"), load_posts),
)
