"""Locate + classify speed, and gazetteer build time and memory, at ~4k and 100k street segments.

    .venv/bin/python bench/locate_classify_perf.py [--posts 20000] [--synthetic 100000]

Posts are the texts of the evaluation sets (tests/data), replayed with a varying house
number so that no two consecutive texts are identical, in batches as the pipeline sends
them (locate the batch, then classify it). The baseline, measured in the
same run, is the naive approach the gazetteer replaces: for every post, look for every
normalised street name in the normalised text.
"""

import argparse
import gc
import json
import random
import resource
import time
import tracemalloc

import shapely
from _django import ROOT

from incidents.classify.lexicon import classify, get_lexicon
from incidents.locate.evaluate import case_record
from incidents.locate.gazetteer import Gazetteer, StreetRow, load_landmarks
from incidents.locate.locator import Locator
from incidents.locate.normalize import normalize_street_name
from tests.fixture_streets import fixture_street_rows

SYNTHETIC_TYPES = ["RUE", "AV", "BD", "ALL", "PL", "IMP", "CHE", "RTE", "QUAI", "SQ"]
GIVEN = ["JEAN", "PIERRE", "PAUL", "LOUIS", "HENRI", "MARIE", "ANDRE", "GEORGES", "VICTOR", "EMILE", "LEON", "JULES"]
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "ca",
    "co",
    "da",
    "de",
    "di",
    "do",
    "fa",
    "fe",
    "ga",
    "gi",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "pe",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
]


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory now (includes GEOS geometries, which tracemalloc does not see)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def synthetic_rows(count: int, seed: int = 7) -> list[StreetRow]:
    """``count`` segments: ~count/4 street names over 40 communes in a 40 km square around Toulouse."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).upper()

    communes = [f"COMMUNE {word()}" for _ in range(40)]
    names = []
    for _ in range(count // 4):
        body = (
            f"{rng.choice(GIVEN)} {word()}"
            if rng.random() < 0.4
            else f"DE LA {word()}"
            if rng.random() < 0.3
            else word()
        )
        names.append((f"{rng.choice(SYNTHETIC_TYPES)} {body}", rng.choice(communes)))
    rows = []
    for index in range(count):
        name, commune = names[index % len(names)]
        x, y = 1.2 + rng.random() * 0.5, 43.45 + rng.random() * 0.36
        line = shapely.LineString([(x, y), (x + rng.uniform(-0.002, 0.002), y + rng.uniform(-0.002, 0.002))])
        rows.append(StreetRow(name, commune, shapely.MultiLineString([line])))
    return rows


def measure_build(label: str, rows: list[StreetRow]) -> Gazetteer:
    """Build time untraced (best of two), then retained and peak Python memory in a traced build."""
    times = []
    for _ in range(2):
        gc.collect()
        started = time.perf_counter()
        gazetteer = Gazetteer.build(rows, load_landmarks())
        times.append(time.perf_counter() - started)
    del gazetteer
    gc.collect()
    before = current_rss_mb()
    tracemalloc.start()
    gazetteer = Gazetteer.build(rows, load_landmarks())
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grown = current_rss_mb() - before
    print(
        f"{label:20} {len(rows):7d} segments -> {len(gazetteer):6d} streets: build {min(times):5.2f} s, "
        f"Python heap retained {current / 2**20:5.1f} MiB (peak {peak / 2**20:5.1f}), "
        f"process RSS +{grown:5.1f} MiB"
    )
    return gazetteer


def measure_database_read() -> None:
    """Store the fixture streets (rolled back afterwards) and time get_gazetteer(): query + build, then cached."""
    from django.db import transaction

    from incidents.locate.gazetteer import clear_gazetteer_cache, get_gazetteer, street_fingerprint
    from tests.fixture_streets import load_fixture_streets

    with transaction.atomic():
        count = load_fixture_streets()
        clear_gazetteer_cache()
        started = time.perf_counter()
        street_fingerprint()
        fingerprint = time.perf_counter() - started
        started = time.perf_counter()
        get_gazetteer()
        first = time.perf_counter() - started
        started = time.perf_counter()
        get_gazetteer()
        cached = time.perf_counter() - started
        transaction.set_rollback(True)
    clear_gazetteer_cache()
    print(
        f"from PostGIS ({count} segments): fingerprint query {fingerprint * 1000:.1f} ms, first get_gazetteer() "
        f"(read + build) {first:.2f} s, cached call {cached * 1000:.1f} ms"
    )


def load_posts(count: int, mix: str) -> list:
    """``count`` records cycling over the texts of one mix.

    ``posts``: the 480 hand-written posts of the classification set (real-looking text,
    about a third name a street). ``streets``: those plus the 837 location cases (most
    name one or two streets: the expensive path).
    """
    texts = []
    with open(ROOT / "tests" / "data" / "classify_eval.jsonl", encoding="utf-8") as handle:
        texts += [(json.loads(line), "classify") for line in handle if line.strip()]
    if mix == "streets":
        with open(ROOT / "tests" / "data" / "locate_eval.jsonl", encoding="utf-8") as handle:
            texts += [(json.loads(line), "locate") for line in handle if line.strip()]
    rng = random.Random(3)
    records = []
    for index in range(count):
        item, kind = texts[index % len(texts)]
        case = dict(item) if kind == "locate" else {"id": item["id"], "text": item["text"]}
        case["id"] = f"p{index}"
        case["text"] = f"{case['text']} (n°{rng.randint(1, 400)})"
        records.append(case_record(case))
    return records


def synthetic_posts(rows: list[StreetRow], posts: list) -> list:
    """The real-looking posts, every other one naming a synthetic street instead ("Nid de poule Rue Bamela")."""
    rng = random.Random(5)
    records = []
    for index, record in enumerate(posts):
        if index % 2:
            records.append(record)
            continue
        name = rng.choice(rows).name.title()
        text = rng.choice(["Nid de poule {} depuis une semaine", "{} : lampadaire en panne", "Travaux {} 🚧"])
        records.append(case_record({"id": f"s{index}", "text": text.format(name)}))
    return records


def time_per_post(label: str, records: list, locator: Locator, batch: int, repeats: int = 3) -> tuple[float, float]:
    """Locate then classify each batch, as the pipeline does; CPU seconds, best of ``repeats`` runs.

    CPU time of this process (not wall time) and the best run: the machine may be shared.
    """
    classify(records[0].text)  # compile the lexicon outside the timing
    lexicon = get_lexicon()
    runs = []
    for _ in range(repeats):
        located = classified = 0.0
        found = 0
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            started = time.process_time()
            locations = locator.locate_many(chunk)
            located += time.process_time() - started
            started = time.process_time()
            for record in chunk:
                lexicon.classify(record.text, record.language)
            classified += time.process_time() - started
            found += sum(location.found for location in locations)
        runs.append((located + classified, located, classified, found))
    _, located, classified, found = min(runs)
    n = len(records)
    print(
        f"{label:34} {n} posts: locate {located / n * 1e6:5.1f} µs, classify {classified / n * 1e6:5.1f} µs, "
        f"together {(located + classified) / n * 1e6:5.1f} µs/post ({n / (located + classified):,.0f} posts/s "
        f"on one core), located {found / n:.0%}"
    )
    return located, classified


def naive_baseline(records: list, rows: list[StreetRow], sample: int = 500) -> float:
    """Seconds per post of: normalise the text, then test every street name as a substring."""
    keys = sorted({normalize_street_name(row.name) for row in rows})
    started = time.process_time()
    for record in records[:sample]:
        text = f" {normalize_street_name(record.text)} "
        [key for key in keys if f" {key} " in text]
    return (time.process_time() - started) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000, help="posts per locate_many/classify call")
    parser.add_argument(
        "--database", action="store_true", help="also time reading the fixture streets from PostGIS (rolled back)"
    )
    args = parser.parse_args()

    print(f"process RSS before: {rss_mb():.0f} MiB")
    fixture_rows = fixture_street_rows()
    toulouse = measure_build("Toulouse fixtures", fixture_rows)
    synthetic = synthetic_rows(args.synthetic)
    big = measure_build("synthetic", synthetic)
    print(f"process max RSS after both builds: {rss_mb():.0f} MiB")
    if args.database:
        measure_database_read()
    print()

    posts = load_posts(args.posts, "posts")
    streets = load_posts(args.posts, "streets")
    time_per_post("warm-up", streets[:2000], Locator(toulouse), args.batch, repeats=1)
    time_per_post("Toulouse, real-looking posts", posts, Locator(toulouse), args.batch)
    located, _ = time_per_post("Toulouse, street-heavy mix", streets, Locator(toulouse), args.batch)
    time_per_post(f"synthetic {args.synthetic // 1000}k, real-looking posts", posts, Locator(big), args.batch)
    time_per_post(
        f"synthetic {args.synthetic // 1000}k, its own streets",
        synthetic_posts(synthetic, posts),
        Locator(big),
        args.batch,
    )
    baseline = naive_baseline(streets, fixture_rows)
    ours = located / len(streets)
    print()
    print(
        f"naive baseline (every street name tested per post, Toulouse): {baseline * 1e6:,.0f} µs/post; "
        f"gazetteer locate (street-heavy mix): {ours * 1e6:.1f} µs/post = {baseline / ours:,.1f}x faster"
    )


if __name__ == "__main__":
    main()
