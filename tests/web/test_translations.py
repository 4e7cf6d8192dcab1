"""The French catalogues: every message translated, placeholders kept, compiled files up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

CATALOGUES = Path(settings.BASE_DIR) / "incidents" / "locale" / "fr" / "LC_MESSAGES"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_catalogue_is_complete_and_compiled(domain, tmp_path):
    compiled = tmp_path / f"{domain}.mo"
    result = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", str(compiled), str(CATALOGUES / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C"},
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    # The committed .mo is what msgfmt makes of the committed .po (run compilemessages after editing).
    assert compiled.read_bytes() == (CATALOGUES / f"{domain}.mo").read_bytes()


def test_models_api_and_importers_speak_french():
    from incidents.categories import Category
    from incidents.importers.records import ImportResult
    from incidents.publish.filters import parse_bbox

    with translation.override("fr"):
        assert str(Category.ROAD_SURFACE_POTHOLE.label) == "Chaussée ou nid-de-poule"
        with pytest.raises(Exception, match="Donnez quatre nombres"):
            parse_bbox("1,2,3")
        assert ImportResult(kind="works", source="toulouse").summary().startswith("chantiers (source toulouse) : 0 lus")


@pytest.mark.django_db
def test_api_errors_follow_the_browser_language():
    client = Client()
    body = client.get("/api/incidents/", {"bbox": "1,2"}, HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["bbox"] == ["Donnez quatre nombres : minlon,minlat,maxlon,maxlat."]


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_catalogue_holds_every_message_of_the_code(domain, tmp_path):
    """makemessages over a copy of the code finds nothing new: no string was left out of the catalogue."""
    root = Path(settings.BASE_DIR)
    for name in ("cityincidents", "incidents"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "fr", "--no-location", "--no-obsolete"],
        cwd=tmp_path,
        env={**os.environ, "DJANGO_DEBUG": "1"},
        capture_output=True,
        check=True,
    )
    result = subprocess.run(
        ["msgfmt", "--statistics", "-o", os.devnull, str(tmp_path / CATALOGUES.relative_to(root) / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C"},
    )
    advice = f"{result.stderr.strip()}: run makemessages (README, Translations) and translate the new entries"
    assert "untranslated" not in result.stderr, advice
    assert "fuzzy" not in result.stderr, advice
