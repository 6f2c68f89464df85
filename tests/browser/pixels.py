"""Compare two PNG screenshots pixel by pixel (stdlib only: 8-bit RGB/RGBA, non-interlaced, as Chromium writes)."""

from __future__ import annotations

import struct
import zlib


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows (RGBA or RGB bytes) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = prev[x], prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r) for r in rows] if channels == 3 else [_rgb(r) for r in rows]


def _rgb(row: bytes) -> bytes:
    return bytes(v for i, v in enumerate(row) if i % 4 != 3)


def changed_pixels(before: bytes, after: bytes, threshold: int = 48) -> tuple[int, int]:
    """How many pixels differ clearly (summed RGB difference above ``threshold``), and how many there are."""
    w1, h1, rows1 = decode_png(before)
    w2, h2, rows2 = decode_png(after)
    assert (w1, h1) == (w2, h2), "screenshots of different sizes"
    changed = 0
    for r1, r2 in zip(rows1, rows2, strict=True):
        for x in range(0, len(r1), 3):
            if abs(r1[x] - r2[x]) + abs(r1[x + 1] - r2[x + 1]) + abs(r1[x + 2] - r2[x + 2]) > threshold:
                changed += 1
    return changed, w1 * h1
