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

Truth: ``truth_lon/lat`` is the point the post is about (a random point on the street, or
the crossing); ``street``/``commune`` name the street when there is one, so an evaluation
can also tell "on the right street".
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import defaultdict

import shapely
from _django import ROOT

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
            add("short", template().format(s=short), name, commune, point_on(street_geom(name, commune)))
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

    with open(OUT, "w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        counts[case["kind"]] += 1
    print(f"{len(cases)} cases -> {OUT.relative_to(ROOT)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
