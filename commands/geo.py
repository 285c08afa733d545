"""Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE and the
GEORADIUS family.

A geo index is a sorted set whose scores are Redis's 52-bit geohashes
(respd.storage.geohash): GEOADD is ZADD with computed scores, and every other command
reads a sorted set.  Distances are printed with four decimals and coordinates as
Redis's "human" long doubles (a bulk string in RESP2, a double in RESP3)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands.zsets import _store as store_zset, zadd
from respd.numbers import double, format_long_double, int64
from respd.resp import NULL_ARRAY, Raw
from respd.storage import geohash
from respd.storage.geohash import BOX, CIRCLE, Shape
from respd.storage.zset import ScoreRange, ZSet

GROUP = "geo"
_ACL = "geo"

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def _word(raw: bytes) -> bytes:
    """An option as strcasecmp sees it: lower-cased, ended by a NUL byte."""
    return raw.split(b"\0", 1)[0].lower()


def _lon_lat(raw_lon: bytes, raw_lat: bytes) -> tuple[float, float]:
    """extractLongLatOrReply."""
    lon, lat = double(raw_lon), double(raw_lat)
    if not (geohash.LONG_MIN <= lon <= geohash.LONG_MAX
            and geohash.LAT_MIN <= lat <= geohash.LAT_MAX):
        raise errors.geo_invalid_pair(lon, lat)
    return lon, lat


def _unit(raw: bytes) -> float:
    """Meters per unit (extractUnitOrReply)."""
    factor = _UNITS.get(_word(raw))
    if factor is None:
        raise errors.GEO_UNIT
    return factor


def _distance_text(meters: float) -> bytes:
    """addReplyDoubleDistance: fixed point with four decimals, rounded half to even."""
    scaled = round(meters * 10000.0)
    sign = b"-" if scaled < 0 else b""
    whole, frac = divmod(abs(scaled), 10000)
    return b"%s%d.%04d" % (sign, whole, frac)


def _coordinate(client: Client, value: float) -> Any:
    """addReplyHumanLongDouble: '%.17Lf' without trailing zeros; RESP3 types it double."""
    text = format_long_double(Fraction(value))
    return Raw(b",%s\r\n" % text) if client.resp == 3 else text


def _zset(client: Client, key: bytes) -> ZSet | None:
    return client.db.read_typed(key, ZSet)  # counted: every caller reads


# --- GEOADD --------------------------------------------------------------------------------------


@command("GEOADD", arity=-5, flags="write denyoom", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", acl=_ACL,
         summary="Add one or more geospatial items in the geospatial index represented using "
                 "a sorted set",
         complexity="O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.",
         syntax="key [NX | XX] [CH] longitude:double latitude:double member "
                "[longitude:double latitude:double member ...]",
         history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),))
def geoadd(client: Client, argv: list[bytes]) -> Any:
    at = 2
    nx = xx = False
    while at < len(argv):
        word = _word(argv[at])
        if word == b"nx":
            nx = True
        elif word == b"xx":
            xx = True
        elif word != b"ch":
            break
        at += 1
    if (len(argv) - at) % 3 or (nx and xx):
        raise errors.SYNTAX
    # GEOADD is ZADD with the coordinates turned into scores, and is replicated as such
    zadd_argv = [b"zadd", *argv[1:at]]
    for i in range(at, len(argv), 3):
        lon, lat = _lon_lat(argv[i], argv[i + 1])
        zadd_argv += [b"%d" % geohash.score_of(lon, lat), argv[i + 2]]
    client.propagate_as = [zadd_argv]
    return zadd(client, zadd_argv)


# --- GEODIST / GEOHASH / GEOPOS -------------------------------------------------------------


@command("GEODIST", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP, since="3.2.0",
         acl=_ACL, summary="Returns the distance between two members of a geospatial index",
         complexity="O(log(N))", syntax="key member1 member2 [M | KM | FT | MI]")
def geodist(client: Client, argv: list[bytes]) -> Any:
    per_unit = 1.0
    if len(argv) == 5:
        per_unit = _unit(argv[4])
    elif len(argv) > 5:
        raise errors.SYNTAX
    zset = _zset(client, argv[1])
    if zset is None:
        return None
    first, second = zset.scores.get(argv[2]), zset.scores.get(argv[3])
    if first is None or second is None:
        return None
    meters = geohash.distance(*geohash.position(first), *geohash.position(second))
    return _distance_text(meters / per_unit)


@command("GEOHASH", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP, since="3.2.0",
         acl=_ACL, summary="Returns members of a geospatial index as standard geohash strings",
         complexity="O(log(N)) for each member requested, where N is the number of elements in "
                    "the sorted set.",
         syntax="key [member [member ...]]")
def geohash_(client: Client, argv: list[bytes]) -> Any:
    zset = _zset(client, argv[1])
    scores = zset.scores if zset is not None else {}
    out: list[Any] = []
    for member in argv[2:]:
        score = scores.get(member)
        out.append(None if score is None else geohash.geohash_string(score))
    return out


@command("GEOPOS", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP, since="3.2.0",
         acl=_ACL, summary="Returns longitude and latitude of members of a geospatial index",
         complexity="O(N) where N is the number of members requested.",
         syntax="key [member [member ...]]")
def geopos(client: Client, argv: list[bytes]) -> Any:
    zset = _zset(client, argv[1])
    scores = zset.scores if zset is not None else {}
    out: list[Any] = []
    for member in argv[2:]:
        score = scores.get(member)
        if score is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = geohash.position(score)
            out.append([_coordinate(client, lon), _coordinate(client, lat)])
    return out


# --- searches --------------------------------------------------------------------------------

# A point found: (member, distance in meters, score, longitude, latitude).
_Match = tuple[bytes, float, float, float, float]

# How a search command was called (georadiusGeneric's flags).
_BY_COORDS, _BY_MEMBER, _NO_STORE, _SEARCH, _SEARCH_STORE = 1, 2, 4, 8, 16


class _Query:
    """The options of one search, parsed in Redis's order."""

    __slots__ = ("shape", "store", "storedist", "withdist", "withhash", "withcoord",
                 "sort", "count", "any")

    def __init__(self) -> None:
        self.shape = Shape(CIRCLE)
        self.store: bytes | None = None
        self.storedist = False
        self.withdist = self.withhash = self.withcoord = self.any = False
        self.sort = 0  # 0 none, 1 ascending, -1 descending
        self.count = 0


def _distance_arg(shape: Shape, raw_radius: bytes, raw_unit: bytes) -> None:
    radius = double(raw_radius, errors.GEO_RADIUS_NOT_NUMBER)
    if radius < 0:
        raise errors.GEO_RADIUS_NEGATIVE
    shape.kind, shape.radius, shape.conversion = CIRCLE, radius, _unit(raw_unit)


def _box_arg(shape: Shape, raw_width: bytes, raw_height: bytes, raw_unit: bytes) -> None:
    width = double(raw_width, errors.GEO_WIDTH_NOT_NUMBER)
    height = double(raw_height, errors.GEO_HEIGHT_NOT_NUMBER)
    if height < 0 or width < 0:
        raise errors.GEO_BOX_NEGATIVE
    shape.kind, shape.width, shape.height = BOX, width, height
    shape.conversion = _unit(raw_unit)


def _member_position(shape: Shape, zset: ZSet, member: bytes) -> None:
    score = zset.scores.get(member)
    if score is None:
        raise errors.GEO_NO_MEMBER
    shape.lon, shape.lat = geohash.position(score)


def _parse(argv: list[bytes], base: int, flags: int, zset: ZSet | None, q: _Query) -> None:
    """georadiusGeneric's option loop and the checks after it."""
    frommember = fromloc = byradius = bybox = False
    search = bool(flags & _SEARCH)
    stores = not flags & (_NO_STORE | _SEARCH)
    argc = len(argv)
    i = base
    while i < argc:
        word = _word(argv[i])
        left = argc - i - 1  # arguments after this one
        if word == b"withdist":
            q.withdist = True
        elif word == b"withhash":
            q.withhash = True
        elif word == b"withcoord":
            q.withcoord = True
        elif word == b"any":
            q.any = True
        elif word == b"asc":
            q.sort = 1
        elif word == b"desc":
            q.sort = -1
        elif word == b"count" and left >= 1:
            q.count = int64(argv[i + 1])
            if q.count <= 0:
                raise errors.GEO_COUNT
            i += 1
        elif word in (b"store", b"storedist") and left >= 1 and stores:
            q.store, q.storedist = argv[i + 1], word == b"storedist"
            i += 1
        elif word == b"storedist" and flags & _SEARCH_STORE:
            q.storedist = True
        elif word == b"frommember" and left >= 1 and search and not fromloc:
            if zset is not None:  # without the key the member is not looked up
                _member_position(q.shape, zset, argv[i + 1])
            frommember = True
            i += 1
        elif word == b"fromlonlat" and left >= 2 and search and not frommember:
            q.shape.lon, q.shape.lat = _lon_lat(argv[i + 1], argv[i + 2])
            fromloc = True
            i += 2
        elif word == b"byradius" and left >= 2 and search and not bybox:
            _distance_arg(q.shape, argv[i + 1], argv[i + 2])
            byradius = True
            i += 2
        elif word == b"bybox" and left >= 3 and search and not byradius:
            _box_arg(q.shape, argv[i + 1], argv[i + 2], argv[i + 3])
            bybox = True
            i += 3
        else:
            raise errors.SYNTAX
        i += 1
    if q.store is not None and (q.withdist or q.withhash or q.withcoord):
        raise errors.GEOSEARCHSTORE_WITH if flags & _SEARCH_STORE else errors.GEORADIUS_STORE_WITH
    if search and not (frommember or fromloc):
        raise errors.geo_need_from(argv[0])
    if search and not (byradius or bybox):
        raise errors.geo_need_by(argv[0])
    if q.any and not q.count:
        raise errors.GEO_ANY_NEEDS_COUNT


def _matches(zset: ZSet, shape: Shape, limit: int) -> list[_Match]:
    """membersOfAllNeighbors: (member, distance in meters, score, lon, lat) of the points
    inside the shape, cell by cell in Redis's scan order; ``limit`` (ANY) stops early."""
    found: list[_Match] = []
    last: tuple[int, int] | None = None  # the last cell scanned (the centre never counts)
    for n, cell in enumerate(geohash.search_cells(shape)):
        if cell is None:
            continue
        # huge radii make neighbours coincide: skip a cell equal to the one just scanned
        if last is not None and cell == last:
            continue
        if found and limit and len(found) >= limit:
            break
        low, high = geohash.score_range(cell)
        start, stop = zset.score_span(ScoreRange(float(low), float(high), False, True))
        for score, member in zset.slice(start, stop):
            inside = shape.contains(score)
            if inside is not None:
                lon, lat, dist = inside
                found.append((member, dist, score, lon, lat))
            if found and limit and len(found) >= limit:
                break
        if n:
            last = cell
    return found


def _search(client: Client, argv: list[bytes], src: int, flags: int) -> Any:
    """georadiusGeneric."""
    zset = _zset(client, argv[src])
    q = _Query()
    if flags & _BY_COORDS:
        base = 6
        q.shape.lon, q.shape.lat = _lon_lat(argv[2], argv[3])
        _distance_arg(q.shape, argv[4], argv[5])
    elif flags & _BY_MEMBER:
        base = 5
        if zset is not None:  # without the key, only the options are checked
            _member_position(q.shape, zset, argv[2])
            _distance_arg(q.shape, argv[3], argv[4])
    else:
        base = 3 if flags & _SEARCH_STORE else 2
        if flags & _SEARCH_STORE:
            q.store = argv[1]
    _parse(argv, base, flags, zset, q)

    if zset is None:
        if q.store is None:
            return []
        _store_results(client, q, [], flags)
        return 0
    if q.count and not q.sort and not q.any:
        q.sort = 1  # COUNT means the nearest ones
    found = _matches(zset, q.shape, q.count if q.any else 0)
    if not found and q.store is None:
        return []
    returned = len(found) if not q.count else min(q.count, len(found))
    if q.sort:
        by_distance = (lambda m: m[1])
        if returned == len(found):  # glibc's qsort: a stable merge sort
            found.sort(key=by_distance, reverse=q.sort < 0)
        else:
            geohash.partial_sort(found, by_distance, q.sort < 0, returned)
    found = found[:returned]
    conversion = q.shape.conversion
    if q.store is not None:
        return _store_results(client, q, found, flags)
    if not (q.withdist or q.withhash or q.withcoord):
        return [m[0] for m in found]
    replies = []
    for member, dist, score, lon, lat in found:
        item: list[Any] = [member]
        if q.withdist:
            item.append(_distance_text(dist / conversion))
        if q.withhash:
            item.append(int(score))
        if q.withcoord:
            item.append([_coordinate(client, lon), _coordinate(client, lat)])
        replies.append(item)
    return replies


def _store_results(client: Client, q: _Query, found: list[_Match], flags: int) -> int:
    """STORE/STOREDIST/GEOSEARCHSTORE: replace the destination with the results, scored
    by geohash or by distance in the unit; an empty result deletes it."""
    assert q.store is not None
    conversion = q.shape.conversion
    pairs = [(dist / conversion if q.storedist else score, member)
             for member, dist, score, _, _ in found]
    event = b"geosearchstore" if flags & _SEARCH else b"georadiusstore"
    store_zset(client, q.store, pairs, event)
    if pairs:
        client.server.dirty += len(pairs) - 1  # one per stored member
    return len(pairs)


def _store_keys(first_option: int) -> Callable[[list[bytes]], list[int]]:
    """COMMAND GETKEYS as Redis's key specs find them: the source, then the key after
    the first STORE and after the first STOREDIST keyword at or after the options."""

    def getkeys(argv: list[bytes]) -> list[int]:
        keys = [1]
        for keyword in (b"store", b"storedist"):
            for i in range(first_option, len(argv) - 1):
                if _word(argv[i]) == keyword:
                    keys.append(i + 1)
                    break
        return keys

    return getkeys


_RADIUS_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box "
                      "of the circular area delimited by center and radius and M is the number "
                      "of items inside the index.")
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned "
                      "bounding box area around the shape provided as the filter and M is the "
                      "number of items inside the shape")
_UNIT_SYNTAX = "(M | KM | FT | MI)"
_RESULT_SYNTAX = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC | DESC]"
_STORE_SYNTAX = "[STORE key:key] [STOREDIST key:key]"
_UPPERCASE_UNITS = ("7.0.0", "Added support for uppercase unit names.")
_ANY_OPTION = ("6.2.0", "Added the `ANY` option for `COUNT`.")
_FROM_SYNTAX = ("(FROMMEMBER member | FROMLONLAT longitude:double latitude:double) "
                "(BYRADIUS radius:double " + _UNIT_SYNTAX + " | BYBOX width:double "
                "height:double " + _UNIT_SYNTAX + ") [ASC | DESC] [COUNT count:integer [ANY]]")


@command("GEORADIUS", arity=-6, flags="write denyoom", keys=(1, 1, 1),
         getkeys=_store_keys(6), group=GROUP, since="3.2.0", acl=_ACL,
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a point",
         complexity=_RADIUS_COMPLEXITY,
         syntax="key longitude:double latitude:double radius:double " + _UNIT_SYNTAX + " "
                + _RESULT_SYNTAX + " " + _STORE_SYNTAX,
         history=(_ANY_OPTION, _UPPERCASE_UNITS))
def georadius(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 1, _BY_COORDS)


@command("GEORADIUS_RO", arity=-6, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.10", acl=_ACL, summary="A read-only variant for GEORADIUS",
         complexity=_RADIUS_COMPLEXITY,
         syntax="key longitude:double latitude:double radius:double " + _UNIT_SYNTAX + " "
                + _RESULT_SYNTAX,
         history=(_ANY_OPTION,))
def georadius_ro(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 1, _BY_COORDS | _NO_STORE)


@command("GEORADIUSBYMEMBER", arity=-5, flags="write denyoom", keys=(1, 1, 1),
         getkeys=_store_keys(5), group=GROUP, since="3.2.0", acl=_ACL,
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a member",
         complexity=_RADIUS_COMPLEXITY,
         syntax="key member radius:double " + _UNIT_SYNTAX + " " + _RESULT_SYNTAX + " "
                + _STORE_SYNTAX,
         history=(_UPPERCASE_UNITS,))
def georadiusbymember(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 1, _BY_MEMBER)


@command("GEORADIUSBYMEMBER_RO", arity=-5, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.10", acl=_ACL, summary="A read-only variant for GEORADIUSBYMEMBER",
         complexity=_RADIUS_COMPLEXITY,
         syntax="key member radius:double " + _UNIT_SYNTAX + " " + _RESULT_SYNTAX)
def georadiusbymember_ro(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 1, _BY_MEMBER | _NO_STORE)


@command("GEOSEARCH", arity=-7, flags="readonly", keys=(1, 1, 1), group=GROUP, since="6.2.0",
         acl=_ACL,
         summary="Query a sorted set representing a geospatial index to fetch members inside "
                 "an area of a box or a circle.",
         complexity=_SEARCH_COMPLEXITY,
         syntax="key " + _FROM_SYNTAX + " [WITHCOORD] [WITHDIST] [WITHHASH]",
         history=(_UPPERCASE_UNITS,))
def geosearch(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 1, _SEARCH)


@command("GEOSEARCHSTORE", arity=-8, flags="write denyoom", keys=(1, 2, 1), group=GROUP,
         since="6.2.0", acl=_ACL,
         summary="Query a sorted set representing a geospatial index to fetch members inside "
                 "an area of a box or a circle, and store the result in another key.",
         complexity=_SEARCH_COMPLEXITY,
         syntax="destination:key source:key " + _FROM_SYNTAX + " [STOREDIST]",
         history=(_UPPERCASE_UNITS,))
def geosearchstore(client: Client, argv: list[bytes]) -> Any:
    return _search(client, argv, 2, _SEARCH | _SEARCH_STORE)
