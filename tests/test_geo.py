"""Geo against redis-server: random points (clusters, duplicates, the poles and the
antimeridian) and random GEOSEARCH/GEORADIUS queries by radius and box, sorted, counted
(with ties: the partial sort must order them as Redis's does), with ANY and STORE; every
raw reply and every stored sorted set must be byte-identical.  Fixed seeds."""

from __future__ import annotations

import random

import pytest

from conftest import Lockstep

POINTS = 400  # per seed
QUERIES = 250  # per seed


@pytest.fixture
def pair(lockstep: Lockstep) -> Lockstep:
    return lockstep


def _coordinate(rng: random.Random, centre: tuple[float, float]) -> tuple[str, str]:
    style = rng.random()
    if style < 0.5:  # near a cluster centre
        lon = centre[0] + rng.uniform(-2, 2)
        lat = centre[1] + rng.uniform(-2, 2)
    elif style < 0.6:  # near the edges of the map
        lon = rng.choice([-180.0, 180.0]) - rng.uniform(-1, 1)
        lat = rng.choice([-85.05112878, 85.05112878]) - rng.uniform(-1, 1)
    else:
        lon, lat = rng.uniform(-180, 180), rng.uniform(-85.05112878, 85.05112878)
    lon = max(-180.0, min(180.0, lon))
    lat = max(-85.05112878, min(85.05112878, lat))
    return repr(round(lon, rng.choice([0, 2, 6, 12]))), repr(round(lat, rng.choice([0, 2, 6, 12])))


def _shape(rng: random.Random) -> list[str]:
    unit = rng.choice(["m", "km", "mi", "ft", "KM"])
    size = rng.choice([0, 1, 50, 300, 1000, 5000, 20000]) * (1000 if unit in ("m", "ft") else 1)
    size = str(size * rng.random() if rng.random() < 0.8 else size)
    if rng.random() < 0.5:
        return ["BYRADIUS", size, unit]
    return ["BYBOX", size, str(float(size) * rng.uniform(0.2, 3)), unit]


def _result_options(rng: random.Random) -> list[str]:
    options: list[str] = []
    if rng.random() < 0.6:
        options += [rng.choice(["ASC", "DESC"])]
    if rng.random() < 0.5:
        options += ["COUNT", str(rng.choice([1, 2, 3, 5, 10, 50]))]
        if rng.random() < 0.3:
            options.append("ANY")
    for flag in ("WITHDIST", "WITHCOORD", "WITHHASH"):
        if rng.random() < 0.4:
            options.append(flag)
    return options


@pytest.mark.parametrize("seed", range(4))
def test_random_searches_match_redis(pair: Lockstep, seed: int) -> None:
    rng = random.Random(seed)
    centres = [(rng.uniform(-180, 180), rng.uniform(-80, 80)) for _ in range(3)]
    members: list[str] = []
    args: list[str] = []
    for i in range(POINTS):
        if members and rng.random() < 0.1:  # a duplicate position: distance ties
            lon, lat = args[-3], args[-2]
        else:
            lon, lat = _coordinate(rng, rng.choice(centres))
        member = f"m{i}"
        members.append(member)
        args += [lon, lat, member]
    for start in range(0, len(args), 90):
        pair.same("GEOADD", "g", *args[start:start + 90])
    pair.same("ZRANGE", "g", "0", "-1", "WITHSCORES")
    for _ in range(QUERIES):
        kind = rng.random()
        options = _result_options(rng)
        if kind < 0.45:
            if rng.random() < 0.5:
                origin = ["FROMMEMBER", rng.choice(members)]
            else:
                origin = ["FROMLONLAT", *_coordinate(rng, rng.choice(centres))]
            pair.same("GEOSEARCH", "g", *origin, *_shape(rng), *options)
        elif kind < 0.6:
            shape = _shape(rng)
            if shape[0] == "BYRADIUS":
                lon, lat = _coordinate(rng, rng.choice(centres))
                pair.same("GEORADIUS_RO", "g", lon, lat, *shape[1:], *options)
            else:
                pair.same("GEORADIUSBYMEMBER_RO", "g", rng.choice(members),
                          rng.choice(["100", "1000"]), "km", *options)
        else:
            keep = [o for o in options if not o.startswith("WITH")]
            origin = ["FROMLONLAT", *_coordinate(rng, rng.choice(centres))]
            dist = ["STOREDIST"] if rng.random() < 0.5 else []
            pair.same("GEOSEARCHSTORE", "dest", "g", *origin, *_shape(rng), *keep, *dist)
            pair.same("ZRANGE", "dest", "0", "-1", "WITHSCORES")
    a, b = rng.sample(members, 2)
    for unit in ("m", "km", "mi", "ft"):
        pair.same("GEODIST", "g", a, b, unit)
    pair.same("GEOPOS", "g", *members[:50])
    pair.same("GEOHASH", "g", *members[:50])


@pytest.mark.parametrize("seed", range(2))
def test_random_positions_and_distances_match_redis(pair: Lockstep, seed: int) -> None:
    """Scores, decoded positions, geohash strings and distances of random points."""
    rng = random.Random(50 + seed)
    args: list[str] = []
    for i in range(300):
        lon, lat = _coordinate(rng, (rng.uniform(-180, 180), rng.uniform(-85, 85)))
        args += [lon, lat, f"p{i}"]
    pair.same("GEOADD", "g", *args)
    pair.same("ZRANGE", "g", "0", "-1", "WITHSCORES")
    names = [f"p{i}" for i in range(300)]
    pair.same("GEOPOS", "g", *names)
    pair.same("GEOHASH", "g", *names)
    for _ in range(300):
        a, b = rng.sample(names, 2)
        pair.same("GEODIST", "g", a, b, rng.choice(["m", "km", "mi", "ft"]))
