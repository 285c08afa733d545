"""LOLWUT: computer art and the version line.  Redis 7.0's own version draws nothing
("Redis ver. 7.0.15"); VERSION 5 draws Georg Nees' Schotter in Braille characters,
VERSION 6 a skyline in ANSI colours.  The drawings are respd's own (Redis's are random
too); the captions and version lines are Redis's."""

from __future__ import annotations

import math
import random
from typing import Any

from respd.client import Client
from respd.command import command
from respd.numbers import int64
from respd.resp import Verbatim

VERSION = b"7.0.15"


def _braille(pixels: set[tuple[int, int]], width: int, height: int) -> bytes:
    """Pixels as Braille characters, 2x4 pixels each (lwTranslatePixelsGroup)."""
    bits = ((0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10),
            (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80))
    lines = []
    for y in range(0, height, 4):
        row = []
        for x in range(0, width, 2):
            code = sum(bit for dx, dy, bit in bits if (x + dx, y + dy) in pixels)
            row.append(chr(0x2800 + code))
        lines.append("".join(row))
    return "\n".join(lines).encode()


def _schotter(cols: int, per_row: int, per_col: int) -> bytes:
    """Squares that tilt and shift more the lower their row."""
    width = cols * 2
    side = max(width // per_row, 1)
    pad = 2 if side > 4 else 0
    height = side * per_col + pad * 2
    pixels: set[tuple[int, int]] = set()
    for row in range(per_col):
        for col in range(per_row):
            disorder = row / max(per_col, 1)
            angle = random.uniform(-1, 1) * disorder * math.pi / 4
            cx = pad + col * side + side / 2 + random.uniform(-1, 1) * disorder * side / 4
            cy = pad + row * side + side / 2 + random.uniform(-1, 1) * disorder * side / 4
            half = (side - 2) / 2
            corners = [(cx + half * (math.cos(angle + k * math.pi / 2) -
                                     math.sin(angle + k * math.pi / 2)) / 1.0,
                        cy + half * (math.sin(angle + k * math.pi / 2) +
                                     math.cos(angle + k * math.pi / 2)) / 1.0)
                       for k in range(4)]
            for k in range(4):
                (x0, y0), (x1, y1) = corners[k], corners[(k + 1) % 4]
                steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
                for s in range(steps + 1):
                    x = round(x0 + (x1 - x0) * s / steps)
                    y = round(y0 + (y1 - y0) * s / steps)
                    if 0 <= x < width and 0 <= y < height:
                        pixels.add((x, y))
    return _braille(pixels, width, height)


def _skyline(cols: int, rows: int) -> bytes:
    """Buildings of random height and shade against a dark sky."""
    colours = (b"\x1b[0;30;40m \x1b[0m", b"\x1b[0;90;100m \x1b[0m", b"\x1b[0;37;47m \x1b[0m",
               b"\x1b[0;97;107m \x1b[0m")
    heights: list[int] = []
    shades: list[bytes] = []
    while len(heights) < cols:
        width = random.randint(3, 8)
        tall = random.randint(1, rows)
        shade = colours[random.randint(1, 3)]
        heights += [tall] * width
        shades += [shade] * width
    lines = []
    for y in range(rows):
        lines.append(b"".join(shades[x] if rows - y <= heights[x] else colours[0]
                              for x in range(cols)))
    return b"\n".join(lines)


def _clamped(raw: list[bytes], index: int, default: int, low: int, high: int) -> int:
    value = int64(raw[index]) if index < len(raw) else default
    return min(max(value, low), high)


@command("LOLWUT", arity=-1, flags="readonly fast", group="server", since="5.0.0",
         acl="read fast", summary="Display some computer art and the Redis version",
         complexity="",
         syntax="[VERSION version:integer]")
def lolwut(client: Client, argv: list[bytes]) -> Any:
    version = VERSION
    args = argv[1:]
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = b"%d.0.0" % (int64(argv[2]) % 2**32)  # printed as an unsigned int
        args = argv[3:]
    major = version.split(b".")[0]
    if major == b"5" or version.startswith(b"4.9"):
        art = _schotter(_clamped(args, 0, 66, 1, 1000), _clamped(args, 1, 8, 1, 200),
                        _clamped(args, 2, 12, 1, 200))
        text = art + b"\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
    elif major == b"6" or version.startswith(b"5.9"):
        art = _skyline(_clamped(args, 0, 80, 1, 1000), _clamped(args, 1, 20, 1, 1000))
        text = art + (b"\nDedicated to the 8 bit game developers of past and present.\n"
                      b"Original 8 bit image from Plaguemon by hikikomori. Redis ver. ")
    else:
        text = b"Redis ver. "
    return Verbatim(text + VERSION + b"\n")
