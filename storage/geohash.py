"""Redis's geohash arithmetic: the 52-bit interleaved cell a coordinate is stored as (the
member's sorted-set score), the cells a radius or box search scans, and the haversine
distance on Redis's sphere.  Every step follows the order of Redis's double arithmetic,
so scores, coordinates and distances are bit-identical to Redis's.

Coordinates are (longitude, latitude).  A hash is ``(bits, step)``: ``step`` bits of
latitude interleaved with ``step`` bits of longitude, latitude in the even positions;
the stored score is a step-26 hash (52 bits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878  # the Web Mercator limits Redis uses
STEP_MAX = 26
EARTH_RADIUS = 6372797.560856  # meters
MERCATOR_MAX = 20037726.37
_D_R = math.pi / 180.0
_U64 = (1 << 64) - 1
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA

# Search shapes.
CIRCLE, BOX = 1, 2

Hash = tuple[int, int]  # (bits, step)


def _spread(v: int) -> int:
    """The 32 bits of v moved to the even bit positions of a 64-bit word."""
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & _EVEN


def _squash(v: int) -> int:
    """The even bits of a 64-bit word, packed into 32 bits."""
    v &= _EVEN
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0xFFFFFFFF


def encode(lon: float, lat: float, step: int,
           lon_range: tuple[float, float] = (LONG_MIN, LONG_MAX),
           lat_range: tuple[float, float] = (LAT_MIN, LAT_MAX)) -> int | None:
    """geohashEncode: the bits of the cell holding the point, None outside the limits."""
    if lon > LONG_MAX or lon < LONG_MIN or lat > LAT_MAX or lat < LAT_MIN:
        return None
    if not (lat_range[0] <= lat <= lat_range[1] and lon_range[0] <= lon <= lon_range[1]):
        return None
    lat_offset = (lat - lat_range[0]) / (lat_range[1] - lat_range[0]) * float(1 << step)
    lon_offset = (lon - lon_range[0]) / (lon_range[1] - lon_range[0]) * float(1 << step)
    return _spread(int(lat_offset)) | (_spread(int(lon_offset)) << 1)


def score_of(lon: float, lat: float) -> int:
    """The sorted-set score GEOADD stores (the step-26 hash, already 52 bits)."""
    bits = encode(lon, lat, STEP_MAX)
    assert bits is not None
    return bits


_LAT_SCALE = LAT_MAX - LAT_MIN
_LON_SCALE = LONG_MAX - LONG_MIN
_CELLS = float(1 << STEP_MAX)


@dataclass
class Area:
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


def decode(bits: int, step: int) -> Area:
    """geohashDecode: the cell's corners."""
    lat_cell = _squash(bits)
    lon_cell = _squash(bits >> 1)
    lat_scale = _LAT_SCALE
    lon_scale = _LON_SCALE
    size = float(1 << step)
    return Area(
        LONG_MIN + (lon_cell * 1.0 / size) * lon_scale,
        LONG_MIN + (((lon_cell + 1) & 0xFFFFFFFF) * 1.0 / size) * lon_scale,  # uint32 + 1
        LAT_MIN + (lat_cell * 1.0 / size) * lat_scale,
        LAT_MIN + (((lat_cell + 1) & 0xFFFFFFFF) * 1.0 / size) * lat_scale,
    )


def _score_bits(score: float) -> int:
    """C's (uint64_t) conversion of a score as x86-64 code does it: cvttsd2si, which
    yields 0x8000000000000000 out of range, on the score or, from 2**63 up, on the score
    minus 2**63 with the top bit flipped back."""
    top = 1 << 63
    if score >= 2.0**63:
        rest = score - 2.0**63
        return (int(rest) ^ top) if rest < 2.0**63 else 0
    if not score >= -(2.0**63):  # -inf, NaN and below int64
        return top
    return int(score) & _U64


def position(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a stored score: the centre of its cell, clamped.  The
    hot path of every search: ``decode`` at step 26, inlined."""
    bits = _score_bits(score)
    lat_cell = _squash(bits)
    lon_cell = _squash(bits >> 1)
    lon = (LONG_MIN + (lon_cell * 1.0 / _CELLS) * _LON_SCALE
           + (LONG_MIN + (((lon_cell + 1) & 0xFFFFFFFF) * 1.0 / _CELLS) * _LON_SCALE)) / 2
    lat = (LAT_MIN + (lat_cell * 1.0 / _CELLS) * _LAT_SCALE
           + (LAT_MIN + (((lat_cell + 1) & 0xFFFFFFFF) * 1.0 / _CELLS) * _LAT_SCALE)) / 2
    lon = LONG_MIN if lon < LONG_MIN else LONG_MAX if lon > LONG_MAX else lon
    lat = LAT_MIN if lat < LAT_MIN else LAT_MAX if lat > LAT_MAX else lat
    return lon, lat


_BASE32 = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11 characters: the position re-encoded on the standard -90..90 latitude
    range (52 bits, the 11th character always '0')."""
    lon, lat = position(score)
    bits = encode(lon, lat, STEP_MAX, (-180.0, 180.0), (-90.0, 90.0)) or 0
    chars = [_BASE32[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10)]
    return bytes(chars) + b"0"


# --- distances -------------------------------------------------------------------------------


def _lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS * abs(lat2 * _D_R - lat1 * _D_R)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine on Redis's sphere, in meters."""
    lon1r = lon1 * _D_R
    lon2r = lon2 * _D_R
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:  # same meridian: the latitude difference is enough
        return _lat_distance(lat1, lat2)
    lat1r = lat1 * _D_R
    lat2r = lat2 * _D_R
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(a))


# --- search areas ---------------------------------------------------------------------------


@dataclass
class Shape:
    """A search: centre, circle radius or box size (in the unit), unit in meters."""

    kind: int
    lon: float = 0.0
    lat: float = 0.0
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    conversion: float = 1.0
    bounds: list[float] = field(default_factory=list)

    def contains(self, score: float) -> tuple[float, float, float] | None:
        """geoWithinShape: (lon, lat, distance in meters) of a stored point inside the
        shape, else None."""
        lon, lat = position(score)
        if self.kind == CIRCLE:
            dist = distance(self.lon, self.lat, lon, lat)
            if dist > self.radius * self.conversion:
                return None
            return lon, lat, dist
        width_m, height_m = self.width * self.conversion, self.height * self.conversion
        if _lat_distance(lat, self.lat) > height_m / 2:
            return None
        if distance(lon, lat, self.lon, lat) > width_m / 2:
            return None
        return lon, lat, distance(self.lon, self.lat, lon, lat)


def _estimate_step(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return STEP_MAX
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2  # so that the range fits in most cases
    if lat > 66 or lat < -66:  # cells narrow towards the poles
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), STEP_MAX)


def _bounding_box(shape: Shape) -> list[float]:
    """[min lon, min lat, max lon, max lat] around the shape."""
    if shape.kind == CIRCLE:
        height = shape.conversion * shape.radius
        width = shape.conversion * shape.radius
    else:
        height = shape.conversion * (shape.height / 2)
        width = shape.conversion * (shape.width / 2)
    lat_delta = height / EARTH_RADIUS / _D_R
    top = width / EARTH_RADIUS / math.cos((shape.lat + lat_delta) * _D_R) / _D_R
    bottom = width / EARTH_RADIUS / math.cos((shape.lat - lat_delta) * _D_R) / _D_R
    # the box is widest on the side nearer the equator
    delta = bottom if shape.lat < 0 else top
    return [shape.lon - delta, shape.lat - lat_delta, shape.lon + delta, shape.lat + lat_delta]


def _move(bits: int, step: int, dx: int, dy: int) -> int:
    """geohash_move_x/y: the neighbouring cell (wrapping around the world)."""
    x = bits & _ODD
    y = bits & _EVEN
    if dx:
        zz = _EVEN >> (64 - step * 2)
        x = (x + zz + 1) if dx > 0 else ((x | zz) - (zz + 1))
        x &= _ODD >> (64 - step * 2)
    if dy:
        zz = _ODD >> (64 - step * 2)
        y = (y + zz + 1) if dy > 0 else ((y | zz) - (zz + 1))
        y &= _EVEN >> (64 - step * 2)
    return (x | y) & _U64


# Neighbour directions (dx, dy) in the order Redis scans the cells after the centre:
# north, south, east, west, north-east, north-west, south-east, south-west.
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def search_cells(shape: Shape) -> list[Hash | None]:
    """geohashCalculateAreasByShapeWGS84: the centre cell and its eight neighbours, in
    scan order; None for a neighbour that cannot hold a match."""
    shape.bounds = min_lon, min_lat, max_lon, max_lat = _bounding_box(shape)
    if shape.kind == CIRCLE:
        radius = shape.radius
    else:
        radius = math.sqrt((shape.width / 2) * (shape.width / 2)
                           + (shape.height / 2) * (shape.height / 2))
    step = _estimate_step(radius * shape.conversion, shape.lat)

    def cells(step: int) -> tuple[int, list[int]]:
        bits = encode(shape.lon, shape.lat, step)
        assert bits is not None
        return bits, [_move(bits, step, dx, dy) for dx, dy in _DIRECTIONS]

    bits, around = cells(step)
    north, south = decode(around[0], step), decode(around[1], step)
    east, west = decode(around[2], step), decode(around[3], step)
    # a neighbour too close to the edge of the searched area: use bigger cells
    if step > 1 and (north.lat_max < max_lat or south.lat_min > min_lat
                     or east.lon_max < max_lon or west.lon_min > min_lon):
        step -= 1
        bits, around = cells(step)
    result: list[Hash | None] = [(bits, step)] + [(b, step) for b in around]
    if step >= 2:
        area = decode(bits, step)
        useless = set()
        if area.lat_min < min_lat:
            useless.update((2, 7, 8))  # south, south-east, south-west
        if area.lat_max > max_lat:
            useless.update((1, 5, 6))
        if area.lon_min < min_lon:
            useless.update((4, 6, 8))
        if area.lon_max > max_lon:
            useless.update((3, 5, 7))
        for i in useless:
            result[i] = None
    return result


def score_range(cell: Hash) -> tuple[int, int]:
    """The scores [min, max) of the stored points inside a cell."""
    bits, step = cell
    shift = 52 - step * 2
    return bits << shift, (bits + 1) << shift


# --- ordering results -----------------------------------------------------------------------


def partial_sort(items: list[Any], key: Callable[[Any], float], descending: bool,
                 upto: int) -> None:
    """Redis's pqsort: a quicksort (Bentley-McIlroy, as in BSD qsort) that only recurses
    into parts overlapping positions 0..upto-1, so those end up sorted and the rest is
    left in the order the partitioning made.  Reproduced step for step because items
    with equal keys come out in an order that depends on it."""
    sign = -1 if descending else 1

    def cmp(i: int, j: int) -> int:
        a, b = key(items[i]), key(items[j])
        return sign * ((a > b) - (a < b))

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def vecswap(i: int, j: int, n: int) -> None:
        for k in range(n):
            swap(i + k, j + k)

    def med3(a: int, b: int, c: int) -> int:
        if cmp(a, b) < 0:
            return b if cmp(b, c) < 0 else (c if cmp(a, c) < 0 else a)
        return b if cmp(b, c) > 0 else (a if cmp(a, c) < 0 else c)

    def wanted(lo: int, n: int) -> bool:
        return not (upto - 1 < lo or 0 > lo + n - 1)

    def sort(base: int, n: int) -> None:
        while True:
            if n < 7:
                for m in range(base + 1, base + n):
                    p = m
                    while p > base and cmp(p - 1, p) > 0:
                        swap(p, p - 1)
                        p -= 1
                return
            pm = base + n // 2
            if n > 7:
                pl, pn = base, base + n - 1
                if n > 40:
                    d = n // 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                pm = med3(pl, pm, pn)
            swap(base, pm)
            pa = pb = base + 1
            pc = pd = base + n - 1
            while True:
                while pb <= pc:
                    r = cmp(pb, base)
                    if r > 0:
                        break
                    if r == 0:
                        swap(pa, pb)
                        pa += 1
                    pb += 1
                while pb <= pc:
                    r = cmp(pc, base)
                    if r < 0:
                        break
                    if r == 0:
                        swap(pc, pd)
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                swap(pb, pc)
                pb += 1
                pc -= 1
            pn = base + n
            r = min(pa - base, pb - pa)
            vecswap(base, pb - r, r)
            r = min(pd - pc, pn - pd - 1)
            vecswap(pb, pn - r, r)
            r = pb - pa
            if r > 1 and wanted(base, r):
                sort(base, r)
            r = pd - pc
            if r > 1:
                base, n = pn - r, r
                if wanted(base, n):
                    continue
            return

    sort(0, len(items))
