"""De-identification for sitegen: PS3.15 Annex E Basic Application Confidentiality Profile.

Public surface: options, the site key, the Deidentifier, refusal and burned-in checks,
pixel masking and the canary Sweeper that checks the finished site.
"""

from . import _ocr as ocr
from ._burned_in import apply_mask, burned_in_reason, refuse_reason
from ._canary import Canary, OnePerValue, without_published_dates
from ._codestream import codestream_canaries
from ._keys import load_or_create_key
from ._options import DEFAULT_OPTIONS, KNOWN_OPTIONS, parse_options
from ._profile import Deidentifier, DeidResult
from ._source_canaries import value_canaries
from ._sweep import Hit, Sweeper

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
