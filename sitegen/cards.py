"""Link-preview cards (1200x630 PNG, the Open Graph size): a key slice beside a title.

The key slice is decoded from the published frame file, so the card shows what the viewer
shows. Callers pass the public title: an unknown case's card never names its diagnosis.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .attrs import first
from .layout import PixelLayout
from .model import Series, Study, frame_path
from .presets import PRESETS
from .render import layout_from_metadata, rescale_of, window_of

if TYPE_CHECKING:  # Pillow and the decoders are imported where a card is drawn
    from PIL import Image, ImageDraw, ImageFont

    FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont

WIDTH, HEIGHT = 1200, 630
BACKGROUND = (17, 20, 24)
TEXT = (236, 239, 243)
MUTED = (150, 160, 172)
ACCENT = (108, 180, 255)


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> FontType:
    """DejaVu when the system has it (most Linux machines), else Pillow's built-in font."""
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size=size)


def view_series(study_list: list[Study], view: dict[str, Any]) -> tuple[Study, Series] | None:
    """The series a case's view names (1-based over all its series), else the first."""
    pairs = [(study, series) for study in study_list for series in study.series]
    if not pairs:
        return None
    n = view.get("series", 1)
    index = n - 1 if isinstance(n, int) and 1 <= n <= len(pairs) else 0
    return pairs[index]


def view_window(value: Any, modality: str) -> tuple[float, float] | None:
    """A case's `view.window` as (center, width), read as the viewer reads it: a preset name,
    "width,center" or [width, center]."""
    if isinstance(value, str) and "," not in value:
        presets = {name: (c, w) for name, c, w in PRESETS.get(modality, [])}
        return presets.get(value.strip().lower())
    parts = value.split(",") if isinstance(value, str) else value
    try:
        width, center = (float(v) for v in parts)
    except (TypeError, ValueError):
        return None
    return (center, width) if width > 0 else None


@dataclass(frozen=True)
class KeyImage:
    """What a case's key image is drawn from: the published frame's bytes and how to show
    them. Cheap to make; `digest` names the image without decoding the frame (a rebuild
    finds its card in the cache), `draw` decodes it."""

    data: bytes
    transfer_syntax: str
    layout: PixelLayout
    window: tuple[float, float] | None
    slope: float
    intercept: float
    side: int
    source: str = ""  # the input file the frame came from, for messages

    def digest(self) -> str:
        params = (self.transfer_syntax, self.layout, self.window, self.slope, self.intercept)
        text = f"{params!r}{self.side}".encode()
        return hashlib.sha256(text + self.data).hexdigest()

    def draw(self) -> Image.Image:
        from PIL import Image

        from . import codestreams

        frame = codestreams.decode_frame(self.data, self.transfer_syntax, self.layout)
        jpeg = codestreams.thumbnail_jpeg(
            frame,
            self.layout,
            slope=self.slope,
            intercept=self.intercept,
            window=self.window,
            max_side=self.side,
            quality=92,
        )
        return Image.open(io.BytesIO(jpeg)).convert("RGB")


def key_image(studies: list[Study], out: Path, view: dict[str, Any], side: int) -> KeyImage:
    """The case's key slice (its view's series and slice, else the middle of the first series)
    in the view's window preset or the data's own."""
    picked = view_series(studies, view)
    if picked is None:
        raise ValueError("the case has no series")
    study, series = picked
    frames = [(inst, n) for inst in series.instances for n in range(1, inst.frames + 1)]
    slice_no = view.get("slice")
    if isinstance(slice_no, int) and 1 <= slice_no <= len(frames):
        inst, n = frames[slice_no - 1]
    else:
        inst, n = frames[len(frames) // 2]
    modality = str(first(inst.metadata, "00080060", ""))
    slope, intercept = rescale_of(inst.metadata)
    return KeyImage(
        data=(out / frame_path(study.uid, series.uid, inst.sop_uid, n)).read_bytes(),
        transfer_syntax=inst.transfer_syntax,
        layout=layout_from_metadata(inst.metadata),
        window=view_window(view.get("window"), modality) or window_of(inst.metadata),
        slope=slope,
        intercept=intercept,
        side=side,
        source=inst.source,
    )


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: FontType, width: int, lines: int) -> str:
    """Greedy word wrap to `width` pixels, at most `lines` lines (the last one ellipsised)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=face) <= width or not current:
            current = trial
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] += " …"
    for i, line in enumerate(out):  # a single word wider than the card
        while draw.textlength(line, font=face) > width and len(line) > 2:
            line = line[:-2] + "…"
        out[i] = line
    return "\n".join(out)


def render_card(
    image: Image.Image | None, title: str, subtitle: str, footer: str, badges: list[str]
) -> bytes:
    """A 1200x630 PNG: the image filling the left square, text on the right."""
    from PIL import Image, ImageDraw

    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    if image is not None:
        im = image.copy()
        im.thumbnail((HEIGHT, HEIGHT), Image.Resampling.LANCZOS)
        if im.size[0] < HEIGHT and im.size[1] < HEIGHT:  # small frames: scale up to fill
            scale = HEIGHT / max(im.size)
            size = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
            im = im.resize(size, Image.Resampling.LANCZOS)
        card.paste(im, ((HEIGHT - im.size[0]) // 2, (HEIGHT - im.size[1]) // 2))
    draw = ImageDraw.Draw(card)
    x, width = HEIGHT + 48, WIDTH - HEIGHT - 48 * 2
    draw.rectangle((HEIGHT, 0, HEIGHT + 6, HEIGHT), fill=ACCENT)
    y = 64
    if badges:
        draw.text((x, y), "  ·  ".join(badges)[:60], font=font(26, True), fill=ACCENT)
        y += 56
    title_font = font(52, True)
    wrapped = _wrap(draw, title, title_font, width, 4)
    draw.multiline_text((x, y), wrapped, font=title_font, fill=TEXT, spacing=12)
    y = draw.multiline_textbbox((x, y), wrapped, font=title_font, spacing=12)[3] + 28
    if subtitle:
        sub = _wrap(draw, subtitle, font(30), width, 3)
        draw.multiline_text((x, y), sub, font=font(30), fill=MUTED, spacing=10)
    if footer:
        line = _wrap(draw, footer, font(26), width, 1)
        draw.text((x, HEIGHT - 64), line, font=font(26), fill=MUTED)
    buf = io.BytesIO()
    card.save(buf, format="PNG")  # optimize=True costs 0.5 s a card
    return buf.getvalue()
