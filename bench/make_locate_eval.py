"""Generate tests/data/locate_eval.jsonl: location cases with ground truth, from the Toulouse fixture streets.

    .venv/bin/python bench/make_locate_eval.py

Deterministic (fixed seed). The writer here knows nothing of the locator: it turns the
official upper-case names ("RUE D ALSACE LORRAINE") into what people type and computes
the ground truth with shapely from the fixture geometries.

Case kinds (``kind``):
- ``official``: the name as published, in a post ("RUE DE METZ bloquée").
- ``written``: the name as people write it: full or abbreviated type ("r.", "av.", "bd",
  "all."), title case or lower case, apostrophes ("d'Alsace"), hyphens, "St"/"Saint".
- ``accents``: written with the accents the official name lacks ("allées Jean-Jaurès").
- ``typo``: one typo (missing, doubled, swapped or wrong letter) in a long word.
- ``hashtag``: #RueDeMetz or #ruedemetz.
- ``short``: without first names or titles ("bd Leclerc" for "BD DU MARECHAL LECLERC").
- ``untyped``: a long name without its type after a preposition ("bouchon sur Alsace Lorraine").
- ``crossing``: two streets that meet, many phrasings ("au croisement de la rue X et de
  l'avenue Y", "angle X / Y", "à l'angle de X et Y"); the truth is their intersection.
- ``ambiguous_commune``: a name found in several communes, the commune named in the
  text or hashtag; the truth is the street of that commune.
- ``ambiguous_none``: the same names without any evidence; the truth is a commune drawn
  at random (what the writer meant is unknowable: the locator should keep a low accuracy
  and say so).
- ``place_poi``: no street, a small X place box (poi/neighborhood) around the truth.
- ``place_city``: no street, a whole-city place box: must stay unlocated.
- ``gps``: device coordinates.

Places and position phrases (the landmarks, house numbers and phrases of issue 12):

- ``landmark``: a landmark of the landmarks file named alone, by its name or an alias
  ("devant la gare Matabiau", "outside Capitole"); the truth is a point within 70 % of its
  extent (a point of its street for a landmark placed by a street);
- ``landmark_street``: a street passing a landmark, both named ("rue X devant le musée Y");
  the truth is the point of the street nearest the landmark;
- ``landmark_generic``: a street and the word for a kind of landmark alone ("rue X, le mur
  du lycée") where only one landmark of that kind lies beside the street;
- ``crossing_phrase``: "X, près du croisement avec Y", "X à hauteur de Y", "X near the
  junction with Y"...; the truth is the intersection;
- ``side``: "X côté Y" where Y crosses X near one end; the truth is a point of that half;
- ``number``: a house number of the landmarks file's address points ("au 12 rue X"), or a
  number missing between two of the same parity (the truth is halfway between them);
- ``stretch``: "X de la Y jusqu'à la Z", "X from Y up to Z"; the truth is a point between
  the two crossings.

The landmark kinds read the landmarks file the locator reads; they measure how the locator
agrees with its own data and with this generator, not with the world (the hand-written
sets tests/data/locate_dev.jsonl and locate_heldout.jsonl are for that).

Truth: ``truth_lon/lat`` is the point the post is about (a random point on the street, or
the crossing); ``street``/``commune`` name the street when there is one, so an evaluation
can also tell "on the right street".
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections import Counter, defaultdict

import shapely
from _django import ROOT
from django.conf import settings

from incidents.locate.landmarks import KINDS, read_places
from tests.fixture_streets import iter_fixture_features

SEED = 20260411
OUT = ROOT / "tests" / "data" / "locate_eval.jsonl"

TYPES = {
    "RUE": ["rue", "Rue", "r."],
    "AV": ["avenue", "Avenue", "av.", "Av", "ave"],
    "BD": ["boulevard", "Boulevard", "bd", "Bd", "bd."],
    "ALL": ["allées", "Allées", "all.", "allees"],
    "PL": ["place", "Place", "pl."],
    "IMP": ["impasse", "Impasse", "imp."],
    "CHE": ["chemin", "Chemin", "ch."],
    "CHEM": ["chemin", "Chemin"],
    "RTE": ["route", "Route", "rte"],
    "QU": ["quai", "Quai"],
    "SQ": ["square", "Square"],
    "PAS": ["passage", "Passage"],
    "ESP": ["esplanade", "Esplanade"],
    "PROM": ["promenade", "Promenade"],
    "COURS": ["cours", "Cours"],
    "PONT": ["pont", "Pont"],
    "PORT": ["port", "Port"],
    "RPT": ["rond-point", "Rond-point"],
    "LOT": ["lotissement", "Lotissement"],
}
FULL_TYPE = {key: values[0] for key, values in TYPES.items()}
PARTICLES = {"DE", "DU", "DES", "LA", "LE", "LES", "AUX", "AU", "ET", "SUR", "EN"}
ELIDED = {"D", "L"}
ABBREVIATIONS = {"ST": ["Saint", "St"], "STE": ["Sainte", "Ste"], "DR": ["Docteur"], "GAL": ["Général"],
                 "MAL": ["Maréchal"], "PDT": ["Président"]}  # fmt: skip
ACCENTED = {
    "JAURES": "Jaurès", "REMUSAT": "Rémusat", "ETIENNE": "Étienne", "GENERAL": "Général", "MARECHAL": "Maréchal",
    "REPUBLIQUE": "République", "PRESIDENT": "Président", "FRERES": "Frères", "ECOLE": "École", "EGLISE": "Église",
    "HELENE": "Hélène", "PERE": "Père", "DESIRE": "Désiré", "FREDERIC": "Frédéric", "THEODORE": "Théodore",
    "RENE": "René", "ANDRE": "André", "EMILE": "Émile", "EUGENE": "Eugène", "LEON": "Léon", "CLEMENT": "Clément",
    "HERAULT": "Hérault", "PYRENEES": "Pyrénées", "ARIEGE": "Ariège", "ALLEES": "Allées", "CHENES": "Chênes",
    "PEPINIERE": "Pépinière", "CIMETIERE": "Cimetière", "BELVEDERE": "Belvédère", "FONTAINE": "Fontaine",
    "GENES": "Gênes", "DELEGUE": "Délégué", "VERONIQUE": "Véronique", "THERESE": "Thérèse", "GERARD": "Gérard",
    "HENRIETTE": "Henriette", "MERIDIENNE": "Méridienne", "PREFECTURE": "Préfecture", "ECOLES": "Écoles",
    "PRES": "Près", "BEARN": "Béarn", "ETATS": "États", "ELYSEE": "Élysée", "AERODROME": "Aérodrome",
    "CHATEAU": "Château", "FORET": "Forêt", "SEBASTOPOL": "Sébastopol", "LIBERATION": "Libération",
    "MEDECIN": "Médecin", "PEYROLIERES": "Peyrolières", "PARGAMINIERES": "Pargaminières", "DEODAT": "Déodat",
    "SEVERAC": "Séverac", "BERANGER": "Béranger", "GREGOIRE": "Grégoire", "PEGUY": "Péguy", "VERDIER": "Verdier",
}  # fmt: skip
GIVEN = {
    "JEAN",
    "PIERRE",
    "PAUL",
    "JACQUES",
    "LOUIS",
    "HENRI",
    "CHARLES",
    "FRANCOIS",
    "JOSEPH",
    "MARIE",
    "MICHEL",
    "ANDRE",
    "GEORGES",
    "RENE",
    "ROGER",
    "MARCEL",
    "ALBERT",
    "EMILE",
    "EUGENE",
    "VICTOR",
    "ANTOINE",
    "ETIENNE",
    "CLAUDE",
    "BERNARD",
    "RAYMOND",
    "ROBERT",
    "ALFRED",
    "EDOUARD",
    "GABRIEL",
    "LUCIEN",
    "MAURICE",
    "LEON",
    "JULES",
    "GENERAL",
    "MARECHAL",
    "PRESIDENT",
    "DOCTEUR",
    "DR",
    "GAL",
    "MAL",
    "PDT",
    "PROFESSEUR",
    "ABBE",
}
TEMPLATES_FR = [
    "Trottoir bloqué {s} depuis ce matin 😡",
    "Encore un nid de poule {s}, ça devient dangereux",
    "{s} : lampadaire en panne depuis 3 jours @Toulouse",
    "Quelqu'un sait pourquoi c'est fermé {s} ?",
    "Dépôt sauvage de matelas {s}, c'est dégueulasse 🤮",
    "Voitures garées sur le passage piéton {s} tous les soirs",
    "les travaux {s} c'est jamais fini... 🚧",
    "Grosse flaque d'eau {s} après l'orage, impossible de passer",
    "Des tags partout sur les murs {s}",
    "Branche tombée en travers de la route {s}",
]
TEMPLATES_EN = [
    "Pothole on {s} again, nearly fell off my bike",
    "Streetlight out on {s} for a week now",
    "Bins overflowing on {s}, rubbish everywhere",
]
CROSSING_TEMPLATES = [
    ("Bouchon énorme au croisement de la {a} et de la {b}", True),
    ("Accident à l'angle {a} / {b}, les secours sont là", True),
    ("angle {A} / {B} : feu rouge en panne", False),
    ("Feu en panne au carrefour {a} x {b}", True),
    ("à l'angle de la {a} et de la {b}, trottoir défoncé", True),
    ("{a}, au croisement avec la {b} : travaux sans signalisation", True),
    ("Intersection {a} & {b} inondée 🌊", True),
    ("Nid de poule au niveau du croisement {A} et {B}", False),
]
COMMUNE_TEMPLATES = ["{s} à {c} : lampadaire en panne", "Nid de poule {s} ({c})", "Travaux {s} #{h}"]


def strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def commune_key(name: str) -> str:
    return " ".join(strip(name).upper().replace("-", " ").replace("'", " ").replace("SAINT", "ST").split())


def write_name(official: str, rng: random.Random, *, accents: bool = False, short: bool = False) -> str | None:
    """An official name as a person writes it; ``None`` if the name does not allow the variant."""
    words = official.split()
    street_type = words[0]
    if street_type not in TYPES:
        return None
    body = words[1:]
    if short:
        index = 0
        while index < len(body) - 1 and (body[index] in GIVEN or body[index] in PARTICLES or len(body[index]) == 1):
            index += 1
        if not any(word in GIVEN for word in body[:index]) or len(body[index]) < 4 or body[index] in PARTICLES:
            return None
        body = body[index:]
    lower = rng.random() < 0.25
    out: list[str] = [rng.choice(TYPES[street_type])]
    pending = ""
    used_accent = False
    for word in body:
        if word in ELIDED:
            pending = word.lower() + "'"
            continue
        if word in PARTICLES:
            out.append(word.lower())
            continue
        if word in ABBREVIATIONS:
            written = rng.choice(ABBREVIATIONS[word])
        elif accents and word in ACCENTED:
            written, used_accent = ACCENTED[word], True
        else:
            written = word.capitalize()
        if lower:
            written = written.lower()
        out.append(pending + written)
        pending = ""
    if accents and not used_accent:
        return None
    text = " ".join(out)
    # Compound names are often hyphenated: "Alsace-Lorraine", "Jean-Jaurès".
    parts = text.split(" ")
    if len(parts) >= 3 and rng.random() < 0.4 and parts[-2].lower() not in {p.lower() for p in PARTICLES}:
        text = " ".join(parts[:-2]) + " " + parts[-2] + "-" + parts[-1]
    return text


def plain(name: str) -> str:
    """A rough comparable form (type kept, particles and punctuation dropped, "ST" spelt out)."""
    words = strip(name).upper().replace("-", " ").replace("'", " ").replace(".", " ").split()
    words = [{"ST": "SAINT", "STE": "SAINTE"}.get(w, w) for w in words]
    return " ".join(w for i, w in enumerate(words) if i == 0 or (w not in PARTICLES and w not in ELIDED))


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap", "sub"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    letter = rng.choice("aeioulnrst".replace(word[i], ""))
    return word[:i] + letter + word[i + 1 :]


def hashtag(official: str, rng: random.Random) -> str | None:
    words = official.split()
    if words[0] not in TYPES:
        return None
    full = [FULL_TYPE[words[0]]] + [
        {"ST": "saint", "STE": "sainte"}.get(w, w.lower())
        for w in words[1:]
        if rng.random() < 0.5 or w not in PARTICLES
    ]
    tag = "".join(strip(w).capitalize() for w in full)
    return "#" + (tag.lower() if rng.random() < 0.3 else tag)


def main() -> None:
    rng = random.Random(SEED)
    streets: dict[tuple[str, str], list] = defaultdict(list)
    for _, name, commune, geometry in iter_fixture_features():
        words = name.split()
        if words[0] not in TYPES or any(ch.isdigit() for ch in name) or len(name) < 8:
            continue
        streets[(name, commune_key(commune))].append(shapely.geometry.shape(geometry))
    merged = {key: shapely.line_merge(shapely.union_all(geoms)) for key, geoms in streets.items()}
    communes_of: dict[str, list[str]] = defaultdict(list)
    spellings: dict[str, set[str]] = defaultdict(set)  # "RUE SAINT-JEAN" and "RUE SAINT JEAN" are one name
    bodies: dict[str, set[str]] = defaultdict(set)  # name without type -> names ("saint pierre" -> quai, place...)
    for name, commune in merged:
        communes_of[name].append(commune)
        spellings[plain(name)].add(name)
        bodies[plain(name).split(" ", 1)[-1]].add(plain(name))
    for name in list(communes_of):
        communes_of[name] = sorted({c for other in spellings[plain(name)] for c in communes_of[other]})
    unique = sorted(name for name, communes in communes_of.items() if len(communes) == 1)
    surnames = Counter((plain(name).split()[0], plain(name).split()[-1]) for name in spellings)
    ambiguous = sorted({min(spellings[plain(name)]) for name, communes in communes_of.items() if len(communes) > 1})

    def street_geom(name: str, commune: str):
        return shapely.union_all(
            [merged[(other, commune)] for other in spellings[plain(name)] if (other, commune) in merged]
        )

    commune_names = {commune_key(c): c for _, _, c, _ in iter_fixture_features()}

    cases: list[dict] = []

    def point_on(geom) -> tuple[float, float]:
        p = shapely.line_interpolate_point(geom, rng.random(), normalized=True)
        return round(p.x, 7), round(p.y, 7)

    def add(kind: str, text: str, name: str | None, commune: str | None, truth: tuple[float, float], **extra) -> None:
        cases.append(
            {
                "id": f"l{len(cases) + 1:04d}",
                "kind": kind,
                "text": text,
                "street": name,
                "commune": commune_names.get(commune, commune) if commune else None,
                "truth_lon": truth[0],
                "truth_lat": truth[1],
                **extra,
            }
        )

    def template(language: str = "") -> str:
        if language == "en" or rng.random() < 0.2:
            return rng.choice(TEMPLATES_EN)
        return rng.choice(TEMPLATES_FR)

    sample = rng.sample(unique, 120)
    for name in sample:
        commune = communes_of[name][0]
        geom = street_geom(name, commune)
        add("official", template().format(s=name), name, commune, point_on(geom))
        written = write_name(name, rng)
        if written:
            add("written", template().format(s=written), name, commune, point_on(geom))
    for name in rng.sample(unique, 80):
        commune = communes_of[name][0]
        written = write_name(name, rng)
        long_words = [w for w in (written or "").split() if len(w) >= 7 and w.isalpha()]
        if written and long_words:
            word = rng.choice(long_words)
            add("typo", template().format(s=written.replace(word, typo(word, rng), 1)), name, commune,
                point_on(street_geom(name, commune)))  # fmt: skip
        tag = hashtag(name, rng)
        if tag:
            add("hashtag", template().format(s=tag), name, commune, point_on(street_geom(name, commune)))
    for name in unique:
        accented = write_name(name, rng, accents=True)
        if accented and rng.random() < 0.6:
            commune = communes_of[name][0]
            add("accents", template().format(s=accented), name, commune, point_on(street_geom(name, commune)))
        short = write_name(name, rng, short=True)
        # A short form that is also the full name of another street ("r. Pasteur") means that street.
        if short and plain(name).split()[0] + " " + plain(short).split(" ", 1)[-1] in spellings:
            short = None
        if short and rng.random() < 0.4:
            commune = communes_of[name][0]
            text, truth = template().format(s=short), point_on(street_geom(name, commune))
            # A surname alone that ends two names of that type ("rue Vidal": ARNAUD or PAUL VIDAL) means neither.
            body = plain(short).split()[1:]
            if len(body) > 1 or surnames[(plain(name).split()[0], body[-1])] == 1:
                add("short", text, name, commune, truth)
    for name in rng.sample(unique, 60):
        words = [w for w in name.split()[1:] if w not in PARTICLES and w not in ELIDED]
        body = " ".join(w.capitalize() for w in words)
        if len(words) >= 2 and len(body) >= 10 and len(bodies[plain(name).split(" ", 1)[-1]]) == 1:
            commune = communes_of[name][0]
            phrase = rng.choice(["Bouchon sur {b} ce matin", "Accident sur {b}, ça bouchonne", "ça roule mal vers {b}"])
            add("untyped", phrase.format(b=body), name, commune, point_on(street_geom(name, commune)))

    # Crossings: pairs of differently named streets of one commune whose geometries meet.
    keys = [key for key in merged if key[0] in set(unique)]
    tree = shapely.STRtree([merged[key] for key in keys])
    pairs = []
    for _index, key in enumerate(keys):
        for other in tree.query(merged[key], predicate="intersects"):
            other_key = keys[other]
            if other_key[0] != key[0] and key < other_key and key[1] == other_key[1]:
                meeting = shapely.intersection(merged[key], merged[other_key])
                points = shapely.get_coordinates(meeting)
                if len(points) == 1 or (len(points) > 1 and shapely.length(shapely.LineString(points)) < 1e-4):
                    pairs.append((key, other_key, tuple(points.mean(axis=0))))
    for key_a, key_b, (x, y) in rng.sample(pairs, min(90, len(pairs))):
        phrase, _typed = rng.choice(CROSSING_TEMPLATES)
        a, b = write_name(key_a[0], rng), write_name(key_b[0], rng)
        if not a or not b:
            continue

        def bare(name: str) -> str:
            return " ".join(w.capitalize() for w in name.split()[1:] if w not in PARTICLES and w not in ELIDED)

        text = phrase.format(a=a, b=b, A=bare(key_a[0]), B=bare(key_b[0]))
        add("crossing", text, key_a[0], key_a[1], (round(x, 7), round(y, 7)), other_street=key_b[0])

    for name in ambiguous:
        for commune in communes_of[name]:
            written = write_name(name, rng) or name
            label = commune_names.get(commune, commune).title()
            hashtag_label = "".join(
                part.capitalize() for part in strip(label).replace("-", " ").replace("'", " ").split()
            )
            phrase = rng.choice(COMMUNE_TEMPLATES)
            add("ambiguous_commune", phrase.format(s=written, c=label, h=hashtag_label), name, commune,
                point_on(street_geom(name, commune)))  # fmt: skip
        commune = rng.choice(communes_of[name])
        add("ambiguous_none", template().format(s=write_name(name, rng) or name), name, commune,
            point_on(street_geom(name, commune)))  # fmt: skip

    # Place boxes: a small box around a point of a random street, or the whole city.
    for name in rng.sample(unique, 25):
        commune = communes_of[name][0]
        lon, lat = point_on(street_geom(name, commune))
        # The post is somewhere in the box, not at its centre.
        half = rng.uniform(0.0003, 0.002)
        cx, cy = lon + rng.uniform(-half, half), lat + rng.uniform(-half, half) * 0.7
        bbox = [round(cx - half, 6), round(cy - half * 0.7, 6), round(cx + half, 6), round(cy + half * 0.7, 6)]
        add("place_poi", "Gros problème de propreté ici, c'est sale partout", None, None, (lon, lat),
            place_bbox=bbox, place_type=rng.choice(["poi", "neighborhood"]), place_name="Quartier")  # fmt: skip
    for text in ["Encore un nid de poule, ras le bol", "Lampadaire en panne devant chez moi", "Travaux partout 🚧"]:
        add("place_city", text, None, None, (1.444, 43.604),
            place_bbox=[1.350, 43.533, 1.515, 43.669], place_type="city", place_name="Toulouse")  # fmt: skip
    for name in rng.sample(unique, 10):
        commune = communes_of[name][0]
        lon, lat = point_on(street_geom(name, commune))
        add("gps", "Trottoir impraticable ici", None, None, (lon, lat), lon=lon, lat=lat)

    place_cases(rng, add, merged, unique, communes_of, pairs)

    with open(OUT, "w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        counts[case["kind"]] += 1
    print(f"{len(cases)} cases -> {OUT.relative_to(ROOT)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


LANDMARK_TEMPLATES_FR = [
    "Trottoir bloqué devant {l} depuis ce matin",
    "{L} : ascenseur en panne, impossible avec une poussette",
    "Nid de poule énorme juste à côté de {l}",
    "Poubelles qui débordent près de {l} 🤢",
    "Encore des vélos couchés sur le trottoir à {l}",
]
LANDMARK_TEMPLATES_EN = ["Broken paving outside {l}", "Lift out of order at {l} again", "Bins overflowing near {l}"]
STREET_LANDMARK_TEMPLATES = [
    "{s} devant {l} : trottoir défoncé",
    "{s}, juste à côté de {l}, une grille arrachée",
    "Travaux {s} près de {l}, pas de passage piéton",
    "Pothole on {s} outside {l}",
]
# The word people use alone for a kind ("le mur du lycée"), with the article it takes.
KIND_WORDS = {
    "lycee": ["le lycée", "du lycée"],
    "school": ["l'école", "de l'école"],
    "church": ["l'église", "de l'église"],
    "market": ["le marché", "du marché"],
    "museum": ["le musée", "du musée"],
    "station": ["la gare", "de la gare"],
    "hospital": ["l'hôpital", "de l'hôpital"],
}
GENERIC_TEMPLATES = [
    "{s}, devant {k}, les voitures roulent trop vite",
    "{s} : le mur {k2} s'effondre",
    "{s} à côté {k2}, trou",
]
CROSSING_PHRASES = [
    "{a}, près du croisement avec la {b} : grille d'arbre manquante",
    "Travaux {a} au croisement avec la {b}, passage fermé",
    "{a} à hauteur de la {b}, les bornes sont couchées",
    "{a} au niveau de la {b} : feu en panne",
    "Pothole on {a} near the junction with {b}",
    "{a} at the corner with {b}: barriers across the crossing",
]
SIDE_TEMPLATES = ["{a} côté {b} : trottoir fermé par un échafaudage", "{a}, côté {b}, encore des sacs poubelle"]
NUMBER_TEMPLATES = ["Poubelles qui débordent devant le {n} {s}", "au {n} {s}, un trou dans le trottoir",
                    "Outside number {n} {s} there's a huge pothole", "{s} n°{n} : voiture sur le passage"]  # fmt: skip
STRETCH_TEMPLATES = [
    "{a}, de la {b} jusqu'à la {c}, tout le trottoir est barré",
    "Bouchon {a} depuis la {b} jusqu'à la {c}",
    "Roadworks on {a} from {b} up to {c}",
]
METRES_PER_DEGREE = 111_320.0


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate metres between two lon/lat points (the generator's own; good to 1 % over a city)."""
    dx = (a[0] - b[0]) * METRES_PER_DEGREE * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * METRES_PER_DEGREE)


def casual(name: str, rng: random.Random) -> str:
    """A name as typed in a hurry: sometimes lower case, sometimes without accents."""
    if rng.random() < 0.3:
        name = name.lower()
    if rng.random() < 0.3:
        name = strip(name)
    return name


def place_cases(rng: random.Random, add, merged: dict, unique: list[str], communes_of: dict, pairs: list) -> None:
    """The landmark, house number and position-phrase kinds (see the module docstring)."""
    places = read_places(settings.INCIDENTS_LANDMARKS_FILE)
    by_plain = {plain(name): (name, commune) for name, commune in merged if name in set(unique)}
    lines = {key: geom for key, geom in merged.items() if geom.geom_type == "LineString" and key[0] in set(unique)}
    points = []  # (spec, lon, lat): landmarks placed by a point
    for spec in places.landmarks:
        if not KINDS[spec.kind].locates:
            continue
        names = [spec.name, *spec.aliases]
        if spec.street:
            key = by_plain.get(plain(spec.street))
            if key is None:
                continue
            lon, lat = shapely.line_interpolate_point(merged[key], rng.random(), normalized=True).coords[0]
            add("landmark", rng.choice(LANDMARK_TEMPLATES_FR).format(l=casual(rng.choice(names), rng), L=spec.name),
                key[0], key[1], (round(lon, 7), round(lat, 7)))  # fmt: skip
            continue
        points.append((spec, spec.lon, spec.lat))
        # A point of the landmark: uniform in the disc of 70 % of its extent.
        radius = 0.7 * (spec.radius_m or KINDS[spec.kind].radius_m) * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lon = spec.lon + radius * math.cos(angle) / (METRES_PER_DEGREE * math.cos(math.radians(spec.lat)))
        lat = spec.lat + radius * math.sin(angle) / METRES_PER_DEGREE
        template = rng.choice(LANDMARK_TEMPLATES_EN if rng.random() < 0.25 else LANDMARK_TEMPLATES_FR)
        add("landmark", template.format(l=casual(rng.choice(names), rng), L=spec.name), None, None,
            (round(lon, 7), round(lat, 7)))  # fmt: skip

    def beside(lon: float, lat: float, within: float) -> list[tuple[float, tuple[str, str], tuple[float, float]]]:
        found = []
        for key, geom in lines.items():
            (x, y), _ = shapely.shortest_line(geom, shapely.Point(lon, lat)).coords
            distance = metres((x, y), (lon, lat))
            if distance <= within:
                found.append((distance, key, (round(x, 7), round(y, 7))))
        return sorted(found)

    for spec, lon, lat in points:
        near = beside(lon, lat, 60.0)
        if near:
            _, key, truth = rng.choice(near)
            written = write_name(key[0], rng)
            if written:
                text = rng.choice(STREET_LANDMARK_TEMPLATES).format(s=written, l=casual(spec.name, rng))
                add("landmark_street", text, key[0], key[1], truth)
        words = KIND_WORDS.get(spec.kind)
        if words:
            others = [(o_lon, o_lat) for other, o_lon, o_lat in points if other.kind == spec.kind and other is not spec]
            for _, key, truth in near[:2]:
                geom = lines[key]
                # Only one landmark of that kind beside the street: the word alone names it.
                if any(shapely.distance(geom, shapely.Point(o)) * METRES_PER_DEGREE < 400 for o in others):
                    continue
                written = write_name(key[0], rng)
                if written:
                    text = rng.choice(GENERIC_TEMPLATES).format(s=written, k=words[0], k2=words[1])
                    add("landmark_generic", text, key[0], key[1], truth)

    for key_a, key_b, (x, y) in rng.sample(pairs, min(40, len(pairs))):
        a, b = write_name(key_a[0], rng), write_name(key_b[0], rng)
        if a and b:
            text = rng.choice(CROSSING_PHRASES).format(a=a, b=b)
            add("crossing_phrase", text, None, None, (round(x, 7), round(y, 7)))

    # Sides and stretches: streets in one piece, crossed near an end or twice.
    crossings_of: dict[tuple[str, str], list[tuple[float, tuple[str, str]]]] = defaultdict(list)
    for key_a, key_b, (x, y) in pairs:
        for one, other in ((key_a, key_b), (key_b, key_a)):
            if one in lines:
                crossings_of[one].append((lines[one].project(shapely.Point(x, y), normalized=True), other))
    sides = stretches = 0
    for key in sorted(crossings_of):
        geom = lines[key]
        length = metres(geom.coords[0], geom.coords[-1])
        if length < 300:
            continue
        found = sorted(crossings_of[key])
        a = write_name(key[0], rng)
        if not a:
            continue
        ends = [(fraction, other) for fraction, other in found if fraction <= 0.15 or fraction >= 0.85]
        if ends and sides < 25:
            fraction, other = rng.choice(ends)
            b = write_name(other[0], rng)
            if b:
                along = rng.uniform(0, 0.5) if fraction <= 0.5 else rng.uniform(0.5, 1)
                truth = shapely.line_interpolate_point(geom, along, normalized=True)
                text = rng.choice(SIDE_TEMPLATES).format(a=a, b=b)
                add("side", text, key[0], key[1], (round(truth.x, 7), round(truth.y, 7)))
                sides += 1
        if len(found) >= 2 and stretches < 25:
            (f1, b_key), (f2, c_key) = found[0], found[-1]
            b, c = write_name(b_key[0], rng), write_name(c_key[0], rng)
            if b and c and f2 - f1 >= 0.2 and b_key != c_key:
                truth = shapely.line_interpolate_point(geom, rng.uniform(f1, f2), normalized=True)
                text = rng.choice(STRETCH_TEMPLATES).format(a=a, b=b, c=c)
                add("stretch", text, key[0], key[1], (round(truth.x, 7), round(truth.y, 7)))
                stretches += 1

    # House numbers: address points of the landmarks file on streets of the fixtures.
    numbered: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for address in places.addresses:
        if plain(address.street) in {plain(name) for name, _ in lines} and address.number.isdigit():
            numbered[address.street][int(address.number)] = (address.lon, address.lat)
    for street in sorted(numbered):
        key = next(key for key in lines if plain(key[0]) == plain(street))
        numbers = numbered[street]
        for number in rng.sample(sorted(numbers), min(4, len(numbers))):
            text = rng.choice(NUMBER_TEMPLATES).format(n=number, s=casual(street, rng))
            add("number", text, key[0], key[1], tuple(round(v, 7) for v in numbers[number]))
        missing = [n for n in sorted(numbers) if n + 4 in numbers and n + 2 not in numbers]
        for number in missing[:2]:
            (x1, y1), (x2, y2) = numbers[number], numbers[number + 4]
            text = rng.choice(NUMBER_TEMPLATES).format(n=number + 2, s=casual(street, rng))
            add("number", text, key[0], key[1], (round((x1 + x2) / 2, 7), round((y1 + y2) / 2, 7)))


if __name__ == "__main__":
    main()
