#!/usr/bin/env python3
"""
Generate the demo posts of cityincidents, deterministically, from the Toulouse fixtures.

    python3 scripts/generate_demo_posts.py            # writes fixtures/demo_posts/ and the labelled set
    python3 scripts/generate_demo_posts.py --check    # fails if the committed files differ

The posts are fiction written like real ones: French mostly, some English, about real
streets of ``fixtures/toulouse/`` (the one-way and shared-space street files) and, for
many, about the roadworks of the 2014 daily snapshots that were running on the day they
were posted (5-12 September 2014). They come in the real input formats:

- ``x_recent_search.jsonl``: X API v2 recent-search pages (``data`` + ``includes``), one
  page per line, with GPS points, places, photos, retweets and quotes;
- ``mastodon_statuses.jsonl``: Mastodon statuses (HTML content, boosts), one per line;
- ``citizen_reports.csv``: the city's reporting form export, with the documented columns.

It opens with the founding story: on Saturday 6 September 2014 a parent posts a photo of
a works barrier blocking the only pedestrian crossing of rue de la Balance, at the
accessibility works that were really there; other people post the same in the days
after, on X, Mastodon and the city's form, and the first post is retweeted and boosted.

Each post carries the problem it was written about (``incident`` in the truth file
``truth.csv``), so the grouping can be evaluated on the demo too. The same generator,
with another seed and posts reported again weeks later, writes the grouping evaluation
set ``tests/data/grouping/labelled_posts.jsonl`` (flat columns plus ``incident``). Only the standard
library is used, so the bench (``bench/bench_pipeline.py``) can import the same writers.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import random
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TOULOUSE = ROOT / "fixtures" / "toulouse"
OUT = ROOT / "fixtures" / "demo_posts"
PARIS = ZoneInfo("Europe/Paris")
SEED = 20140906
FIRST_DAY = dt.date(2014, 9, 5)
LAST_DAY = dt.date(2014, 9, 12)
TWITTER_EPOCH_MS = 1288834974657

# --- the city: streets and works ---------------------------------------------------------


@dataclass
class Street:
    name: str  # official, e.g. "RUE DE LA BALANCE"
    commune: str
    coords: list[tuple[float, float]]


@dataclass
class Works:
    key: str
    lon: float
    lat: float
    street: str
    nature: str
    circulation: str
    starts: dt.date
    ends: dt.date
    days: set[dt.date] = field(default_factory=set)

    @property
    def pedestrian(self) -> bool:
        return "trottoir" in self.circulation.lower()


def load_streets() -> list[Street]:
    streets = []
    for name in ("sens-de-circulation.geojson", "zones-de-rencontre.geojson"):
        for feature in json.loads((TOULOUSE / name).read_text())["features"]:
            props = feature["properties"]
            for line in feature["geometry"]["coordinates"]:
                streets.append(
                    Street(props["street"].strip(), props["commune"].upper(), [(lon, lat) for lon, lat in line])
                )
    return streets


def load_works() -> list[Works]:
    rows = json.loads((TOULOUSE / "chantiers-en-cours_2014_daily_snapshots.json").read_text())
    works: dict[str, Works] = {}
    for row in rows:
        key = repr(row["id"])
        street = row["voie"].split("|")[0].split("(")[0].strip()
        if key not in works:
            works[key] = Works(
                key=key,
                lon=row["X_WGS84"],
                lat=row["Y_WGS84"],
                street=street,
                nature=row.get("nature", ""),
                circulation=row.get("circulation", ""),
                starts=dt.datetime.strptime(row["datedebut"], "%Y%m%d").date(),
                ends=dt.datetime.strptime(row["datefin"], "%Y%m%d").date(),
            )
        works[key].days.add(dt.date.fromisoformat(row["date"][:10]))
    return [works[key] for key in sorted(works)]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate ground distance (equirectangular; fine within a city, for generating only)."""
    mid = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320 * math.cos(mid), (a[1] - b[1]) * 110_540)


def moved(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    lon = point[0] + east_m / (111_320 * math.cos(math.radians(point[1])))
    return round(lon, 6), round(point[1] + north_m / 110_540, 6)


def along(street: Street, fraction: float) -> tuple[float, float]:
    """The point at ``fraction`` of the street's length."""
    lengths = [metres(a, b) for a, b in zip(street.coords, street.coords[1:], strict=False)]
    target = sum(lengths) * fraction
    for (a, b), length in zip(zip(street.coords, street.coords[1:], strict=False), lengths, strict=True):
        if target <= length and length > 0:
            t = target / length
            return round(a[0] + (b[0] - a[0]) * t, 6), round(a[1] + (b[1] - a[1]) * t, 6)
        target -= length
    return round(street.coords[-1][0], 6), round(street.coords[-1][1], 6)


# --- how people write street names -------------------------------------------------------

TYPES = {
    "RUE": "rue",
    "AV": "avenue",
    "BD": "boulevard",
    "ALL": "allées",
    "PL": "place",
    "IMP": "impasse",
    "CHE": "chemin",
    "CHEM": "cheminement",
    "RTE": "route",
    "QU": "quai",
    "PORT": "port",
    "ESP": "esplanade",
    "SQ": "square",
    "PAS": "passage",
    "PONT": "pont",
    "GRANDE-RUE": "grande-rue",
    "COURS": "cours",
}
SHORT_TYPES = {"rue": "r.", "avenue": "av.", "boulevard": "bd", "allées": "all.", "place": "pl.", "chemin": "ch."}
ACCENTS = {
    "JAURES": "Jaurès",
    "REPUBLIQUE": "République",
    "ETIENNE": "Étienne",
    "EGLISE": "Église",
    "GENERAL": "Général",
    "MARECHAL": "Maréchal",
    "PERE": "Père",
    "FREDERIC": "Frédéric",
    "HELENE": "Hélène",
    "THEATRE": "Théâtre",
    "ECOLE": "École",
    "COLLEGE": "Collège",
    "LYCEE": "Lycée",
    "PREFECTURE": "Préfecture",
    "SEVERINE": "Séverine",
    "MERCIE": "Mercié",
    "DESIRE": "Désiré",
    "CLEMENCE": "Clémence",
    "PERI": "Péri",
    "ARENES": "Arènes",
    "FERRIERES": "Ferrières",
}
PARTICLES = {"DE": "de", "LA": "la", "DU": "du", "DES": "des", "LE": "le", "LES": "les", "ET": "et", "SUR": "sur"}


def proper_name(official: str) -> str:
    """RUE DE LA BALANCE -> rue de la Balance; ALL JEAN JAURES -> allées Jean Jaurès."""
    words = official.split()
    out: list[str] = []
    for index, word in enumerate(words):
        if index == 0 and word in TYPES:
            out.append(TYPES[word])
        elif word in ("D", "L") and index + 1 < len(words):
            out.append(word.lower() + "'")
        elif word in PARTICLES and index > 0:
            out.append(PARTICLES[word])
        elif word in ACCENTS:
            out.append(ACCENTS[word])
        else:
            out.append("-".join(part.capitalize() for part in word.split("-")))
    return " ".join(out).replace("' ", "'")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def written_name(official: str, rng: random.Random) -> str:
    """The street as someone types it: proper, lower case, abbreviated, a hashtag, or with a typo."""
    proper = proper_name(official)
    style = rng.random()
    if style < 0.45:
        return proper
    if style < 0.62:
        return strip_accents(proper).lower()
    if style < 0.74:
        kind, _, rest = proper.partition(" ")
        return f"{SHORT_TYPES.get(kind, kind)} {rest}" if rest else proper
    if style < 0.84:
        words = strip_accents(proper).replace("'", " ").replace("-", " ").split()
        return "#" + "".join(word[:1].upper() + word[1:] for word in words)
    if style < 0.92:
        kind, _, rest = proper.partition(" ")
        if len(rest) > 5:
            cut = rng.randrange(1, len(rest) - 1)
            rest = rest[:cut] + rest[cut + 1 :]  # a missing letter
        return f"{kind} {rest}"
    return official.lower().capitalize() if rng.random() < 0.5 else official


# --- what people write -------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "works_obstruction": {
        "fr": [
            "Chantier {street} : barrières de travaux sur tout le trottoir, on marche sur la route 😤",
            "Travaux {street} depuis lundi, la barrière de chantier est en travers du passage. Poussette impossible.",
            "Encore des travaux {street}… le chantier déborde sur la chaussée et rien n'est balisé",
            "{street} : chantier mal balisé, barrière renversée en pleine nuit, j'ai failli me la prendre à vélo",
            "Qui est responsable du chantier {street} ? Travaux arrêtés depuis 3 jours mais tout reste barré",
            "Rue barrée pour travaux {street}, aucune déviation pour les piétons, le chantier prend toute la place",
            "Le chantier {at}{street} bloque l'accès, les travaux auraient pu prévoir un passage…",
            "Travaux {street} : les engins de chantier garés sur le trottoir, merci pour les fauteuils roulants",
        ],
        "en": [
            "Roadworks on {street} blocking the whole pavement, had to walk in the road with the kids",
            "Works barrier left across the footpath on {street} again. Roadworks site not lit at night.",
            "{street}: roadworks since Monday and no diversion for pedestrians. Works everywhere in Toulouse.",
        ],
    },
    "pedestrian_crossing_sidewalk": {
        "fr": [
            "Passage piéton complètement effacé {at}{street}, les voitures ne s'arrêtent plus",
            "Trottoir défoncé {at}{street}, une dame âgée a trébuché ce matin",
            "{street} : le passage piéton devant l'école est invisible, quelqu'un va se faire renverser",
            "Le trottoir {street} est impraticable en fauteuil, dalles soulevées sur 20 mètres",
        ],
        "en": [
            "The pedestrian crossing on {street} has faded away, drivers just don't stop",
            "Broken sidewalk on {street}, careful if you walk there at night",
        ],
    },
    "road_surface_pothole": {
        "fr": [
            "Énorme nid de poule {at}{street}, attention en vélo !",
            "Trou dans la chaussée {street} depuis des semaines, ça devient dangereux",
            "Chaussée défoncée {street}, les scooters font des écarts, nid de poule pas signalé",
            "{street} : le nid de poule s'agrandit, deux roues crevées cette semaine",
        ],
        "en": [
            "Huge pothole on {street}, nearly came off my bike this morning",
            "Another pothole on {street}, the road surface is falling apart",
        ],
    },
    "lighting": {
        "fr": [
            "Lampadaire éteint {at}{street} depuis une semaine, c'est tout noir le soir",
            "Plus aucun éclairage {street}, on rentre à la lampe de poche",
            "{street} : l'éclairage public ne marche plus, lampadaire qui clignote puis s'éteint",
        ],
        "en": ["Streetlight out on {street} for days, it's pitch dark after 9pm"],
    },
    "waste_cleanliness": {
        "fr": [
            "La poubelle déborde {at}{street}, déchets partout sur le trottoir",
            "Dépôt d'ordures sauvage {street}, matelas et déchets depuis samedi",
            "{street} : poubelle pas vidée depuis 4 jours, les ordures s'entassent",
        ],
        "en": ["Rubbish piling up on {street}, litter all over the square"],
    },
    "graffiti_vandalism": {
        "fr": [
            "Nouveau tag sur la façade {at}{street}, ça n'arrête pas",
            "Graffiti sur l'abribus {street} et vitre cassée, vandalisme encore",
            "{street} : tag énorme sur le mur de l'école, tout refait il y a un mois",
        ],
        "en": ["Graffiti all over the walls on {street} again"],
    },
    "vegetation": {
        "fr": [
            "Grosse branche d'arbre tombée {street} après le vent de cette nuit",
            "L'arbre {at}{street} penche dangereusement, une branche touche les fils",
            "{street} : arbre mort avec des branches qui tombent sur la piste cyclable",
        ],
        "en": ["Fallen tree branch blocking {street} after last night's storm"],
    },
    "drainage_flooding": {
        "fr": [
            "Inondation {street} après l'orage : l'égout est bouché",
            "{street} sous l'eau, inondation à chaque pluie, l'égout ne suit pas",
        ],
        "en": ["Flood on {street} after the storm, drains completely blocked"],
    },
    "traffic_parking": {
        "fr": [
            "Stationnement sauvage {street}, voitures en double file toute la journée",
            "Bouchon monstre {street} ce matin, 20 minutes pour 300 mètres",
            "Encore une voiture garée sur la piste cyclable {street}, stationnement n'importe où",
        ],
        "en": ["Traffic jam on {street} again, parking on the cycle lane everywhere"],
    },
    "signage_marking": {
        "fr": [
            "Panneau stop arraché {at}{street}, carrefour dangereux",
            "Marquage au sol effacé {street}, plus de ligne au feu",
            "Feu tricolore en panne {at}{street} depuis ce matin",
        ],
        "en": ["Stop sign knocked down on {street}, road marking gone too"],
    },
}
CATEGORY_WEIGHTS = {
    "pedestrian_crossing_sidewalk": 3,
    "road_surface_pothole": 4,
    "lighting": 3,
    "waste_cleanliness": 3,
    "graffiti_vandalism": 2,
    "vegetation": 1,
    "drainage_flooding": 1,
    "traffic_parking": 3,
    "signage_marking": 2,
}
FOLLOW_UPS = {
    "fr": [
        "Toujours pareil ce matin.",
        "Et ça dure…",
        "Signalé à la mairie.",
        "@Toulouse vous comptez faire quoi ?",
        "",
    ],
    "en": ["Still the same today.", "Reported it already.", ""],
}
NOISE = [
    ("fr", "Quel coucher de soleil sur la Garonne ce soir 😍 #Toulouse"),
    ("fr", "Le Stade a encore gagné ! Quelle ambiance"),
    ("fr", "Quelqu'un connaît un bon resto vers {street} ?"),
    ("fr", "Marché Victor Hugo ce matin, que du bonheur"),
    ("fr", "Cassoulet du dimanche chez mamie 😋"),
    ("fr", "Rentrée des classes réussie pour les petits, bon courage aux parents"),
    ("fr", "Concert gratuit ce soir place du Capitole, qui vient ?"),
    ("fr", "Je cherche une colocation {street}, des pistes ?"),
    ("en", "Beautiful evening in Toulouse, the pink city lives up to its name"),
    ("en", "Great coffee on {street}, highly recommend"),
]
AT_NUMBERS = ["devant le {n} ", "au niveau du {n} ", "en face du {n} ", "au {n} "]
FIRST_NAMES = [
    "marie",
    "julien",
    "lea",
    "karim",
    "sophie",
    "thomas",
    "ines",
    "lucas",
    "chloe",
    "hugo",
    "emma",
    "nathan",
    "camille",
    "yanis",
    "sarah",
    "louis",
    "manon",
    "mehdi",
    "pauline",
    "antoine",
    "clara",
    "maxime",
    "lina",
    "theo",
    "jade",
    "adrien",
    "nora",
    "romain",
    "eva",
    "bastien",
    "sofia",
]
SUFFIXES = ["", "31", "_tls", "tls", "_31", "_toulouse", "b", "_velo", "_pieton", "82", "_m", "_off"]
MASTODON_INSTANCES = ["piaille.fr", "mastodon.social", "toot.aquilenet.fr", "framapiaf.org", "mamot.fr"]
LANDMARKS = [
    ("Place du Capitole", (1.44330, 43.60440)),
    ("Gare Matabiau", (1.45360, 43.61110)),
    ("Jardin des Plantes", (1.45130, 43.59360)),
    ("Pont Neuf", (1.43850, 43.59930)),
    ("Métro Jean Jaurès", (1.44960, 43.60590)),
    ("Halle aux Grains", (1.45550, 43.60010)),
    ("Basilique Saint-Sernin", (1.44200, 43.60860)),
    ("Place Wilson", (1.44890, 43.60500)),
    ("Esquirol", (1.44410, 43.60020)),
    ("Marché des Carmes", (1.44440, 43.59750)),
]
TOULOUSE_PLACE = {
    "id": "3ba4f3cb8f4f5e0b",
    "full_name": "Toulouse, France",
    "name": "Toulouse",
    "place_type": "city",
    "country": "France",
    "country_code": "FR",
    "geo": {"type": "Feature", "bbox": [1.350383, 43.532654, 1.515244, 43.668708], "properties": {}},
}


# --- the posts ---------------------------------------------------------------------------


@dataclass
class Author:
    handle: str
    user_id: str
    name: str


@dataclass
class Post:
    """One generated post, before it is written in a platform's format."""

    platform: str  # x, mastodon, form
    post_id: str
    author: Author
    when: dt.datetime
    text: str = ""
    language: str = "fr"
    point: tuple[float, float] | None = None
    place: dict | None = None
    photos: list[str] = field(default_factory=list)
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    repost_of: Post | None = None
    quote_of: Post | None = None
    reply_to: Post | None = None
    incident: str = ""  # the problem it is about ("" for noise and reposts)


class Writer:
    """Turns problems into posts: ids, authors, times, photos, platform mix."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.posts: list[Post] = []
        self.authors = [
            Author(f"{name}{suffix}", str(rng.randrange(10**8, 4 * 10**9)), name.capitalize())
            for name in FIRST_NAMES
            for suffix in SUFFIXES
        ]
        rng.shuffle(self.authors)
        # A few people post a lot, most post once or twice.
        self.author_weights = [1 / (rank + 1) for rank in range(len(self.authors))]
        self.sequence = 0

    def author(self) -> Author:
        return self.rng.choices(self.authors, self.author_weights)[0]

    def new_id(self, platform: str, when: dt.datetime) -> str:
        self.sequence += 1
        ms = int(when.timestamp() * 1000)
        if platform == "x":
            return str(((ms - TWITTER_EPOCH_MS) << 22) | (self.sequence % 4096))
        if platform == "mastodon":
            return str((ms << 16) | (self.sequence % 65536))
        return f"TLS-2014-{self.sequence:06d}"

    def photo(self, platform: str) -> str:
        token = "".join(
            self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(15)
        )
        if platform == "x":
            return f"https://pbs.twimg.com/media/{token}.jpg"
        if platform == "mastodon":
            return f"https://piaille.fr/system/media_attachments/files/{token[:3]}/{token[3:6]}/original/{token}.jpg"
        return f"https://signalements.example.org/photos/{token}.jpg"

    def add(self, post: Post) -> Post:
        self.posts.append(post)
        return post

    def post(self, platform: str, when: dt.datetime, text: str, **fields) -> Post:
        author = fields.pop("author", None) or self.author()
        return self.add(Post(platform, self.new_id(platform, when), author, when, text, **fields))

    def repost(self, original: Post, when: dt.datetime) -> Post:
        original.reposts += 1
        return self.add(
            Post(original.platform, self.new_id(original.platform, when), self.author(), when, repost_of=original)
        )


def engagement(rng: random.Random, scale: float = 1.0) -> dict[str, int]:
    likes = int(rng.paretovariate(1.3) * scale) - 1
    return {"likes": likes, "replies": int(likes * rng.random() * 0.3), "quotes": int(likes > 8 and rng.random() < 0.3)}


def street_near(point: tuple[float, float], streets: list[Street], limit_m: float = 40.0) -> Street | None:
    best = min(streets, key=lambda s: min(metres(point, c) for c in s.coords))
    return best if min(metres(point, c) for c in best.coords) <= limit_m else None


def landmark_near(point: tuple[float, float]) -> tuple[str, tuple[float, float]] | None:
    name, where = min(LANDMARKS, key=lambda landmark: metres(point, landmark[1]))
    return (name, where) if metres(point, where) < 120 else None


def at_phrase(rng: random.Random) -> str:
    return rng.choice(AT_NUMBERS).format(n=rng.randrange(1, 80)) if rng.random() < 0.3 else ""


def local_time(day: dt.date, rng: random.Random, earliest: int = 7, latest: int = 22) -> dt.datetime:
    minute = rng.randrange(earliest * 60, latest * 60)
    return dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, rng.randrange(60), tzinfo=PARIS)


def problem_posts(
    writer: Writer,
    label: str,
    category: str,
    where: tuple[float, float],
    street: str,
    start: dt.datetime,
    count: int,
    *,
    english: float = 0.12,
    spread_hours: float = 40,
    last_day: dt.date = LAST_DAY,
) -> list[Post]:
    """Posts from different people about one problem at ``where`` on ``street``."""
    rng = writer.rng
    when = start
    posts: list[Post] = []
    for index in range(count):
        if index:
            when = when + dt.timedelta(seconds=rng.randrange(1_000, int(spread_hours * 3600)))
            if when.astimezone(PARIS).date() > last_day:
                break
        language = "en" if rng.random() < english else "fr"
        text = rng.choice(TEMPLATES[category][language]).format(street=written_name(street, rng), at=at_phrase(rng))
        if index and rng.random() < 0.35:
            text = f"{text} {rng.choice(FOLLOW_UPS[language])}".strip()
        platform = rng.choices(["x", "mastodon", "form"], weights=[6, 3, 2])[0]
        point = place = None
        if platform == "form" or (platform == "x" and rng.random() < 0.7):
            # Phones report GPS within a few tens of metres of where people stand.
            point = moved(where, rng.gauss(0, 9), rng.gauss(0, 9))
        elif platform == "x":
            landmark = landmark_near(where)
            if landmark and rng.random() < 0.6:
                name, centre = landmark
                west, south = moved(centre, -60, -45)
                east, north = moved(centre, 60, 45)
                place = {"name": name, "type": "poi", "bbox": [west, south, east, north]}
            else:
                place = {"name": "Toulouse, France", "type": "city"}
        photos = [writer.photo(platform)] if rng.random() < 0.45 else []
        post = writer.post(
            platform,
            when,
            text,
            language=language,
            point=point,
            place=place,
            photos=photos,
            incident=label,
            **engagement(rng),
        )
        posts.append(post)
        if post.platform != "form" and post.likes > 6 and rng.random() < 0.7:
            for _ in range(rng.randrange(1, 4)):
                writer.repost(post, post.when + dt.timedelta(minutes=rng.randrange(5, 600)))
    return posts


def founding_story(writer: Writer, works: Works) -> Post:
    """Rue de la Balance, Saturday 6 September 2014: a works barrier on the only crossing.

    People stand on rue de la Balance, a few metres north of its corner with rue Ernest
    Mérimée, inside the works' impact area.
    """
    site = moved((works.lon, works.lat), -8, 4)
    at = lambda east, north: moved(site, east, north)  # noqa: E731
    marie = Author("marie_tls31", "2251908374", "Marie L.")
    story = "balance-crossing"
    first = writer.post(
        "x",
        dt.datetime(2014, 9, 6, 8, 12, 41, tzinfo=PARIS),
        "Une barrière de chantier posée en plein sur le seul passage piéton de la rue de la Balance. "
        "Avec la poussette je dois descendre sur la chaussée, au milieu des voitures. "
        "Des travaux d'accessibilité, paraît-il… 😡 #Toulouse",
        author=marie,
        point=at(4, -3),
        photos=[writer.photo("x")],
        likes=48,
        replies=9,
        quotes=3,
        incident=story,
    )
    for minutes in (14, 31, 58, 95, 160, 240, 410):
        writer.repost(first, first.when + dt.timedelta(minutes=minutes))
    follow = [
        (
            "mastodon",
            (2014, 9, 6, 14, 36),
            (-6, 5),
            "fr",
            True,
            "<p>Même constat que beaucoup : rue de la Balance, la barrière du chantier bloque complètement le passage "
            "piéton. Les travaux sont « pour l'accessibilité » 🙃</p><p>Photo prise à 14h.</p>",
        ),
        (
            "x",
            (2014, 9, 6, 18, 2),
            (9, 2),
            "fr",
            False,
            "@marie_tls31 pareil ce soir, barrière de chantier sur le passage piéton rue de la Balance, "
            "un papy avec son déambulateur a dû faire demi-tour",
        ),
        (
            "form",
            (2014, 9, 7, 10, 20),
            (-2, -8),
            "fr",
            True,
            "Barrière de travaux posée sur le passage piéton rue de la Balance (chantier EXEDRA). "
            "Les piétons passent sur la chaussée. Merci d'intervenir avant la rentrée lundi.",
        ),
        (
            "x",
            (2014, 9, 8, 8, 21),
            (3, 6),
            "en",
            True,
            "Works barrier blocking the only pedestrian crossing on Rue de la Balance. Walked the kids to school "
            "in the road. Roadworks for 'accessibility'…",
        ),
        (
            "mastodon",
            (2014, 9, 8, 8, 47),
            (-4, 1),
            "fr",
            False,
            "<p>Lundi de rentrée et toujours la barrière de chantier sur le passage piéton "
            '<a href="https://piaille.fr/tags/RueDeLaBalance" class="mention hashtag" rel="tag">'
            "#<span>RueDeLaBalance</span></a>. Les enfants de l'école traversent "
            "entre les voitures. Travaux à revoir !</p>",
        ),
        (
            "x",
            (2014, 9, 8, 12, 5),
            (7, -6),
            "fr",
            False,
            "Chantier rue de la Balance : la barrière est toujours sur le passage piéton, et personne ne bouge.",
        ),
        (
            "form",
            (2014, 9, 9, 7, 55),
            (1, 3),
            "fr",
            True,
            "Chantier rue de la Balance : barrière de travaux sur le seul passage piéton depuis samedi. Dangereux "
            "pour les enfants de l'école.",
        ),
    ]
    for platform, moment, (east, north), language, photo, text in follow:
        post = writer.post(
            platform,
            dt.datetime(*moment, tzinfo=PARIS),
            text,
            language=language,
            point=at(east, north) if platform != "mastodon" else None,
            photos=[writer.photo(platform)] if photo else [],
            incident=story,
            **engagement(writer.rng, 2.0),
        )
        if post.platform == "mastodon":
            for minutes in (20, 75):
                writer.repost(post, post.when + dt.timedelta(minutes=minutes))
    writer.post(
        "x",
        dt.datetime(2014, 9, 9, 9, 30, tzinfo=PARIS),
        "Bravo à toutes celles et ceux qui ont signalé la barrière de chantier rue de la Balance. On attend que "
        "les travaux libèrent le passage piéton.",
        point=at(-3, -4),
        quote_of=first,
        incident=story,
        likes=17,
    )
    return first


def founding_thread(writer: Writer, first: Post) -> None:
    """The replies under the first post of the founding story: no street, no GPS, one conversation.

    Written last, with their own authors and counts, so that adding them left every other
    generated post as it was.
    """
    replies = [
        (
            Author("lucas_31500", "3019844713", "Lucas"),
            (2014, 9, 6, 9, 3),
            "@marie_tls31 pareil ce matin avec le fauteuil de ma mère, on a dû faire le tour par la route 😤",
        ),
        (first.author, (2014, 9, 6, 19, 40), "Toujours là ce soir. Personne n'est venu…"),
        (
            first.author,
            (2014, 9, 9, 18, 15),
            "C'est réparé ! Barrière déplacée cet après-midi, merci à tous ceux qui ont relayé 👏",
        ),
        (first.author, (2014, 9, 10, 8, 30), "Et un passage piéton tout neuf peint ce matin 🎉 Merci @ToulouseMairie"),
    ]
    for author, moment, text in replies:
        when = dt.datetime(*moment, tzinfo=PARIS)
        writer.post("x", when, text, author=author, reply_to=first, incident=first.incident)


def build(seed: int = SEED, problems: int = 200, noise: int = 50, recurrences: int = 0) -> list[Post]:
    """Generate the demo: the founding story, works problems, street problems, noise, far-away posts.

    ``recurrences`` adds problems reported again two to four weeks later (for the grouping
    evaluation: nobody resolved them, so the later posts belong to the same incident).
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible fiction, not secrets)
    writer = Writer(rng)
    streets = load_streets()
    by_name: dict[str, list[Street]] = defaultdict(list)
    for street in streets:
        by_name[street.name].append(street)
    works = load_works()

    balance = next(w for w in works if w.street == "RUE DE LA BALANCE")
    first = founding_story(writer, balance)

    # Works running on the demo days, on a street people can name.
    running = [
        w
        for w in works
        if w is not balance
        and w.street in by_name
        and any(FIRST_DAY <= day <= LAST_DAY for day in w.days)
        and min(metres((w.lon, w.lat), c) for s in by_name[w.street] for c in s.coords) < 60
    ]
    rng.shuffle(running)
    works_problems = int(problems * 0.45)
    for index, site in enumerate(running[:works_problems]):
        days = sorted(day for day in site.days if FIRST_DAY <= day <= LAST_DAY and site.starts <= day <= site.ends)
        if not days:
            continue
        category = "works_obstruction" if not site.pedestrian or rng.random() < 0.8 else "pedestrian_crossing_sidewalk"
        count = 1 + min(int(rng.expovariate(0.45)), 9)
        problem_posts(
            writer,
            f"works-{index}",
            category,
            moved((site.lon, site.lat), rng.gauss(0, 6), rng.gauss(0, 6)),
            site.street,
            local_time(rng.choice(days), rng),
            count,
        )

    # Other problems anywhere on the streets: some on the same street as another one, not far.
    categories = list(CATEGORY_WEIGHTS)
    weights = [CATEGORY_WEIGHTS[c] for c in categories]
    named = [s for s in streets if s.name.split()[0] in TYPES]
    for index in range(problems - works_problems):
        street = rng.choice(named)
        where = along(street, rng.random())
        category = rng.choices(categories, weights)[0]
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(0, (LAST_DAY - FIRST_DAY).days + 1))
        problem_posts(
            writer,
            f"street-{index}",
            category,
            where,
            street.name,
            local_time(day, rng),
            1 + min(int(rng.expovariate(0.6)), 6),
        )
        if rng.random() < 0.1:
            # The same kind of problem a block away: a different incident.
            east = rng.choice([-1, 1]) * rng.uniform(120, 220)
            problem_posts(
                writer, f"street-{index}-b", category, moved(where, east, 0), street.name, local_time(day, rng), 2
            )

    for index in range(recurrences):
        street = rng.choice(named)
        where = along(street, rng.random())
        category = rng.choices(categories, weights)[0]
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(0, 8))
        problem_posts(writer, f"again-{index}", category, where, street.name, local_time(day, rng), 2)
        later = day + dt.timedelta(days=rng.randrange(14, 28))
        problem_posts(
            writer,
            f"again-{index}",
            category,
            moved(where, rng.gauss(0, 8), rng.gauss(0, 8)),
            street.name,
            local_time(later, rng),
            2,
            last_day=later + dt.timedelta(days=3),
        )

    for _ in range(noise):
        language, text = rng.choice(NOISE)
        street = rng.choice(named)
        when = local_time(FIRST_DAY + dt.timedelta(days=rng.randrange(0, 8)), rng, 8, 23)
        point = moved(along(street, rng.random()), 0, 0) if rng.random() < 0.5 else None
        writer.post(
            rng.choice(["x", "mastodon"]),
            when,
            text.format(street=written_name(street.name, rng)),
            language=language,
            point=point,
            **engagement(rng),
        )

    # Posts about somewhere else entirely: out of the service area.
    for text, point, label in [
        ("Travaux rue de Rivoli, le chantier bloque tout le trottoir, Paris c'est l'enfer", (2.3522, 48.8606), "paris"),
        ("Énorme nid de poule cours de l'Intendance, Bordeaux, attention vélos", (-0.5754, 44.8412), "bordeaux"),
    ]:
        writer.post("x", local_time(dt.date(2014, 9, 9), rng), text, point=point, incident=f"far-{label}")

    founding_thread(writer, first)
    writer.posts.sort(key=lambda post: (post.when, post.post_id))
    return writer.posts


# --- writing the formats -----------------------------------------------------------------


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tweet(post: Post) -> tuple[dict, dict]:
    """The X API v2 tweet object of ``post`` and the expansions it needs."""
    data: dict = {
        "id": post.post_id,
        "text": "",
        "created_at": iso_z(post.when),
        "author_id": post.author.user_id,
        "lang": post.language,
        "edit_history_tweet_ids": [post.post_id],
    }
    includes: dict[str, list] = {
        "users": [{"id": post.author.user_id, "name": post.author.name, "username": post.author.handle}]
    }
    if post.repost_of is not None:
        original = post.repost_of
        body = original.text if original.text else ""
        data["text"] = f"RT @{original.author.handle}: {body}"[:140].replace("&", "&amp;")
        data["referenced_tweets"] = [{"type": "retweeted", "id": original.post_id}]
        original_data, original_includes = tweet(original)
        includes["tweets"] = [original_data]
        for key, values in original_includes.items():
            includes.setdefault(key, []).extend(values)
        data["public_metrics"] = {
            "retweet_count": original.reposts,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
        }
        return data, includes
    text = post.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    geo: dict = {}
    if post.point:
        geo["coordinates"] = {"type": "Point", "coordinates": list(post.point)}
    if post.place:
        if post.place["type"] == "city":
            place = TOULOUSE_PLACE
        else:
            place = {
                "id": _place_id(post.place["name"]),
                "full_name": post.place["name"],
                "name": post.place["name"],
                "place_type": "poi",
                "country": "France",
                "country_code": "FR",
                "geo": {"type": "Feature", "bbox": post.place["bbox"], "properties": {}},
            }
        geo["place_id"] = place["id"]
        includes["places"] = [place]
    if geo:
        data["geo"] = geo
    if post.photos:
        keys = [f"3_{int(post.post_id) - 1 - n}" for n in range(len(post.photos))]
        data["attachments"] = {"media_keys": keys}
        includes["media"] = [
            {"media_key": k, "type": "photo", "url": u} for k, u in zip(keys, post.photos, strict=True)
        ]
        text = f"{text} https://t.co/{post.photos[0].rsplit('/', 1)[1][:10]}"
    data["text"] = text
    data["public_metrics"] = {
        "retweet_count": post.reposts,
        "reply_count": post.replies,
        "like_count": post.likes,
        "quote_count": post.quotes,
    }
    if post.quote_of is not None:
        data["referenced_tweets"] = [{"type": "quoted", "id": post.quote_of.post_id}]
    if post.reply_to is not None:
        root = post.reply_to
        while root.reply_to is not None:
            root = root.reply_to
        data["referenced_tweets"] = [{"type": "replied_to", "id": post.reply_to.post_id}]
        data["conversation_id"] = root.post_id
        data["in_reply_to_user_id"] = post.reply_to.author.user_id
    return data, includes


def _place_id(name: str) -> str:
    digest = 0
    for char in name.encode():
        digest = (digest * 131 + char) % 16**16
    return f"{digest:016x}"


def x_pages(posts: list[Post], page_size: int = 50) -> list[dict]:
    """Recent-search pages, newest first as X returns them, ``includes`` de-duplicated per page."""
    tweets = [post for post in posts if post.platform == "x"][::-1]
    pages = []
    for start in range(0, len(tweets), page_size):
        chunk = tweets[start : start + page_size]
        page_includes: dict[str, dict[str, dict]] = defaultdict(dict)
        data = []
        for post in chunk:
            tweet_data, includes = tweet(post)
            data.append(tweet_data)
            for key, values in includes.items():
                for value in values:
                    page_includes[key].setdefault(value.get("id") or value.get("media_key"), value)
        pages.append(
            {
                "data": data,
                "includes": {key: list(values.values()) for key, values in page_includes.items()},
                "meta": {"newest_id": chunk[0].post_id, "oldest_id": chunk[-1].post_id, "result_count": len(chunk)},
            }
        )
    return pages


def status(post: Post, instance: str) -> dict:
    """The Mastodon status object of ``post``."""
    uri = f"https://{instance}/users/{post.author.handle}/statuses/{post.post_id}"
    account = {
        "id": post.author.user_id,
        "username": post.author.handle,
        "acct": post.author.handle,
        "display_name": post.author.name,
        "url": f"https://{instance}/@{post.author.handle}",
    }
    if post.repost_of is not None:
        original = post.repost_of
        return {
            "id": post.post_id,
            "created_at": iso_z(post.when),
            "visibility": "public",
            "uri": f"{uri}/activity",
            "url": None,
            "content": "",
            "reblog": status(original, _instance(original)),
            "account": account,
            "media_attachments": [],
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
        }
    content = post.text if post.text.startswith("<p>") else "<p>" + _escape(post.text).replace("\n", "<br>") + "</p>"
    return {
        "id": post.post_id,
        "created_at": iso_z(post.when),
        "in_reply_to_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.language,
        "uri": uri,
        "url": f"https://{instance}/@{post.author.handle}/{post.post_id}",
        "replies_count": post.replies,
        "reblogs_count": post.reposts,
        "favourites_count": post.likes,
        "content": content,
        "reblog": None,
        "account": account,
        "media_attachments": [
            {"id": str(int(post.post_id) + n), "type": "image", "url": url, "description": None}
            for n, url in enumerate(post.photos)
        ],
        "tags": [],
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


def _instance(post: Post) -> str:
    return MASTODON_INSTANCES[int(post.author.user_id) % len(MASTODON_INSTANCES)]


FORM_COLUMNS = ["id", "posted_at", "text", "lon", "lat", "author", "language", "media_urls", "like_count", "url"]


def form_rows(posts: list[Post]) -> list[dict]:
    rows = []
    for post in posts:
        if post.platform != "form":
            continue
        rows.append(
            {
                "id": post.post_id,
                "posted_at": post.when.isoformat(),
                "text": post.text,
                "lon": f"{post.point[0]:.6f}" if post.point else "",
                "lat": f"{post.point[1]:.6f}" if post.point else "",
                "author": post.author.handle,
                "language": post.language,
                "media_urls": " ".join(post.photos),
                "like_count": post.likes,
                "url": f"https://signalements.example.org/r/{post.post_id}",
            }
        )
    return rows


def external_id(post: Post) -> tuple[str, str]:
    """The (source, external id) the pipeline stores ``post`` under."""
    if post.platform == "x":
        return "x", post.post_id
    if post.platform == "mastodon":
        uri = f"https://{_instance(post)}/users/{post.author.handle}/statuses/{post.post_id}"
        return "mastodon", f"{uri}/activity" if post.repost_of is not None else uri
    return "csv", post.post_id


def render(posts: list[Post]) -> dict[str, str]:
    """The files of the demo, by name."""
    x_lines = "".join(json.dumps(page, ensure_ascii=False) + "\n" for page in x_pages(posts))
    statuses = "".join(
        json.dumps(status(post, _instance(post)), ensure_ascii=False) + "\n"
        for post in posts
        if post.platform == "mastodon"
    )
    form = io.StringIO()
    writer = csv.DictWriter(form, FORM_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(form_rows(posts))
    truth = io.StringIO()
    truth_writer = csv.writer(truth, lineterminator="\n")
    truth_writer.writerow(["source", "external_id", "incident"])
    for post in posts:
        if post.repost_of is None:
            truth_writer.writerow([*external_id(post), post.incident])
    return {
        "x_recent_search.jsonl": x_lines,
        "mastodon_statuses.jsonl": statuses,
        "citizen_reports.csv": form.getvalue(),
        "truth.csv": truth.getvalue(),
    }


LABELLED = ROOT / "tests" / "data" / "grouping" / "labelled_posts.jsonl"


def labelled_rows(posts: list[Post]) -> str:
    """The grouping evaluation set: posts in the documented flat columns plus ``incident``, the truth."""
    lines = []
    for post in posts:
        if post.repost_of is not None:
            continue
        text = re.sub(r"<[^>]+>", " ", post.text).replace("&#39;", "'").replace("&amp;", "&")
        row: dict = {"id": post.post_id, "text": " ".join(text.split()), "posted_at": post.when.isoformat()}
        if post.point:
            row.update(lon=post.point[0], lat=post.point[1])
        if post.place and post.place["type"] != "city":
            row.update(place_name=post.place["name"], place_type=post.place["type"], place_bbox=post.place["bbox"])
        if post.reply_to is not None:
            row.update(reply_to=post.reply_to.post_id)
        row.update(language=post.language, like_count=post.likes, incident=post.incident)
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(lines)


def render_labelled() -> str:
    return labelled_rows(build(seed=7, problems=260, noise=30, recurrences=25))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    files = render(build())
    labelled = render_labelled()
    if args.check:
        stale = [name for name, text in files.items() if (args.out / name).read_text(encoding="utf-8") != text]
        if LABELLED.read_text(encoding="utf-8") != labelled:
            stale.append(str(LABELLED.relative_to(ROOT)))
        if stale:
            print(f"out of date: {', '.join(stale)}; run scripts/generate_demo_posts.py", file=sys.stderr)
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
    LABELLED.parent.mkdir(parents=True, exist_ok=True)
    LABELLED.write_text(labelled, encoding="utf-8")
    posts = build()
    print(f"{len(posts)} posts ({sum(p.repost_of is not None for p in posts)} reposts) written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
