"""The two icons a Teams app package needs, drawn here (a star) and written as PNG.

Teams wants a full-colour 192×192 icon and a 32×32 outline icon that is white on a
transparent background. A tiny PNG encoder (zlib + CRC chunks) keeps the package free of
binary assets and of an imaging dependency.
"""

from __future__ import annotations

import math
import struct
import zlib

Pixel = tuple[int, int, int, int]

WHITE: Pixel = (255, 255, 255, 255)
CLEAR: Pixel = (0, 0, 0, 0)


def png(width: int, height: int, pixels: list[list[Pixel]]) -> bytes:
    """RGBA pixels (rows top to bottom) as PNG bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel) for pixel in row)  # filter type 0 per row
        for row in pixels
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _star(size: int, scale: float) -> list[tuple[float, float]]:
    centre = size / 2
    outer, inner = size * scale, size * scale * 0.45
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = -math.pi / 2 + index * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
    return points


def _inside(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _draw(size: int, background: Pixel, scale: float) -> list[list[Pixel]]:
    star = _star(size, scale)
    return [
        [WHITE if _inside(x + 0.5, y + 0.5, star) else background for x in range(size)]
        for y in range(size)
    ]


def hex_to_pixel(color: str) -> Pixel:
    value = color.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), 255)


def color_icon(accent: str) -> bytes:
    """192×192: a white star on the accent colour."""
    return png(192, 192, _draw(192, hex_to_pixel(accent), 0.36))


def outline_icon() -> bytes:
    """32×32: a white star on transparent."""
    return png(32, 32, _draw(32, CLEAR, 0.45))
