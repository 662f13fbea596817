"""De-identification for sitegen: PS3.15 Annex E Basic Application Confidentiality Profile.

Public surface: options, the site key, the Deidentifier, refusal and burned-in checks,
pixel masking and the canary Sweeper that checks the finished site.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import _ocr as ocr
    from ._burned_in import apply_mask, burned_in_reason, refuse_reason
    from ._canary import Canary, OnePerValue, without_published_dates
    from ._codestream import codestream_canaries
    from ._keys import load_or_create_key
    from ._options import DEFAULT_OPTIONS, KNOWN_OPTIONS, parse_options
    from ._profile import Deidentifier, DeidResult
    from ._source_canaries import value_canaries
    from ._sweep import Hit, Sweeper

# where each name lives: imported on first use, so that what needs only the options or the
# canaries (the configuration, a rebuild that makes nothing) does not import pydicom
_WHERE = {
    "ocr": "_ocr",
    "apply_mask": "_burned_in",
    "burned_in_reason": "_burned_in",
    "refuse_reason": "_burned_in",
    "Canary": "_canary",
    "OnePerValue": "_canary",
    "without_published_dates": "_canary",
    "codestream_canaries": "_codestream",
    "load_or_create_key": "_keys",
    "DEFAULT_OPTIONS": "_options",
    "KNOWN_OPTIONS": "_options",
    "parse_options": "_options",
    "Deidentifier": "_profile",
    "DeidResult": "_profile",
    "value_canaries": "_source_canaries",
    "Hit": "_sweep",
    "Sweeper": "_sweep",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_WHERE[name]}", __name__)
    value = module if name == "ocr" else getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_OPTIONS",
    "KNOWN_OPTIONS",
    "Canary",
    "DeidResult",
    "Deidentifier",
    "Hit",
    "OnePerValue",
    "Sweeper",
    "apply_mask",
    "burned_in_reason",
    "codestream_canaries",
    "load_or_create_key",
    "ocr",
    "parse_options",
    "refuse_reason",
    "value_canaries",
    "without_published_dates",
]
