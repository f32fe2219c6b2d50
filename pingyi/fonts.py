"""The CJK fonts the server draws with (PDF bulletins, chart images, word clouds).

The setup installs Debian's fonts-noto-cjk (`make fonts`); PINGYI_CJK_FONT_DIR points elsewhere
when another system keeps them. Noto CJK ships as collections: each face (JP, KR, SC, TC, HK)
is one member, and the simplified-Chinese one is found by its family name, not by a fixed index.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

FILES = {
    ("sans", "regular"): "NotoSansCJK-Regular.ttc",
    ("sans", "bold"): "NotoSansCJK-Bold.ttc",
    ("serif", "regular"): "NotoSerifCJK-Regular.ttc",
    ("serif", "bold"): "NotoSerifCJK-Bold.ttc",
}


class FontMissing(RuntimeError):
    """No CJK font where the settings say; str() tells the operator what to install."""


@dataclass(frozen=True)
class Face:
    path: Path
    index: int  # the member of the collection that holds simplified Chinese

    @property
    def family(self) -> str:
        return f"{self.path.stem}-{self.index}"


def _search_dirs() -> list[Path]:
    configured = getattr(settings, "PINGYI_CJK_FONT_DIR", "")
    if configured:
        return [Path(configured)]
    return [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto")]


@cache
def _sc_index(path: Path) -> int:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for index, font in enumerate(collection.fonts):
        family = font["name"].getDebugName(1) or ""
        if family.endswith(" SC"):
            return index
    return 0


def cjk_face(style: str = "sans", weight: str = "regular") -> Face:
    """The simplified-Chinese face of a Noto CJK collection; FontMissing if none is installed."""
    name = FILES[(style, weight)]
    for directory in _search_dirs():
        path = directory / name
        if path.exists():
            return Face(path, _sc_index(path))
    raise FontMissing(
        _("找不到中文字体 %(name)s：请运行 make fonts（安装 fonts-noto-cjk），或设置 %(setting)s")
        % {"name": name, "setting": "PINGYI_CJK_FONT_DIR"}
    )
