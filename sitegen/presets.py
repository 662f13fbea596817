"""The window presets sitegen adds per modality (name, center, width), after the data's own:
the viewer offers them, the cards and the configuration check read them."""

from __future__ import annotations

PRESETS: dict[str, list[tuple[str, float, float]]] = {
    "CT": [
        ("soft tissue", 40, 400),
        ("lung", -600, 1500),
        ("bone", 400, 1800),
        ("brain", 40, 80),
        ("mediastinum", 50, 350),
        ("liver", 60, 160),
    ],
}
