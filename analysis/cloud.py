"""The word cloud of members' suggestions, drawn by the server with Pillow and the CJK face.

Drawn here rather than with the `wordcloud` package: that one brings numpy and matplotlib
(~60 MB) for what is forty words on an Archimedean spiral, and it wants a font file path where
Noto CJK ships a collection whose simplified-Chinese member must be chosen by index
(pingyi.fonts.cjk_face).
"""

import io
import math

from PIL import Image, ImageDraw, ImageFont

from pingyi.fonts import cjk_face

PALETTE = ["#b3261e", "#1f5fa8", "#2e7d32", "#8e44ad", "#d35400", "#00796b", "#5d4037"]
MIN_SIZE, MAX_SIZE = 14, 64


def word_cloud_png(words: list[tuple[str, int]], width: int = 720, height: int = 400) -> bytes:
    """A PNG of the words, the most frequent largest and nearest the centre."""
    face = cjk_face()
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    placed: list[tuple[int, int, int, int]] = []
    top = max((n for _w, n in words), default=1)
    low = min((n for _w, n in words), default=1)
    for rank, (word, n) in enumerate(words):
        share = (math.sqrt(n) - math.sqrt(low)) / max(math.sqrt(top) - math.sqrt(low), 1e-9)
        size = int(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * share)
        font = ImageFont.truetype(str(face.path), size, index=face.index)
        left, upper, right, lower = draw.textbbox((0, 0), word, font=font)
        w, h = right - left + 4, lower - upper + 4
        spot = _spot(placed, w, h, width, height, rank)
        if spot is None:
            continue
        x, y = spot
        placed.append((x, y, x + w, y + h))
        draw.text((x + 2 - left, y + 2 - upper), word, font=font, fill=PALETTE[rank % len(PALETTE)])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _spot(placed, w: int, h: int, width: int, height: int, rank: int):
    """The first place on a spiral out from the centre where the box fits and overlaps none."""
    cx, cy = width / 2, height / 2
    turn = 0.35 + (rank % 3) * 0.1  # a little variety, so the cloud is not one tight coil
    for step in range(4000):
        angle = step * turn
        radius = 1.6 * angle
        x = int(cx + radius * math.cos(angle) * (width / height) - w / 2)
        y = int(cy + radius * math.sin(angle) - h / 2)
        if x < 0 or y < 0 or x + w > width or y + h > height:
            if radius > width:
                return None
            continue
        box = (x, y, x + w, y + h)
        if not any(_overlap(box, other) for other in placed):
            return x, y
    return None


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
