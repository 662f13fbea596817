"""Is a kept value what its attribute says it is?

The allow-list keeps attributes by tag, and an adversary controls the bytes under any tag: a
KVP written as LT holding a name, a BodyPartExamined "SMITHERS", a RescaleType with an MRN.
Every kept element is checked here against its dictionary VR and the grammar of that VR
(numbers parse, UIDs are UIDs, dates are dates), and code strings against the defined terms
where the standard defines them. Pure functions: the profile decides what to do with a value
that fails (remove it and make it a canary).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydicom.datadict import dictionary_VR
from pydicom.tag import BaseTag

from ._iod import TERMS as IOD_TERMS

_GRAMMAR: dict[str, re.Pattern[str]] = {
    "DS": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"),
    "IS": re.compile(r"[+-]?\d{1,12}"),
    "UI": re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*))*"),
    "AS": re.compile(r"\d{3}[DWMY]"),
    "DA": re.compile(r"\d{8}"),
    "TM": re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?"),
    "DT": re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?"),
    "CS": re.compile(r"[A-Z0-9 _]{0,16}"),
}
_MAX_LENGTH = {"DS": 16, "IS": 12, "UI": 64, "SH": 16, "LO": 64, "CS": 16}

# Defined terms (PS3.3, PS3.16) of the code strings sitegen keeps. A value outside its list
# is no code: it is removed (and becomes a canary), the element keeps its other values.
_IMAGE_TYPE_TERMS = frozenset(
    """ORIGINAL DERIVED PRIMARY SECONDARY AXIAL LOCALIZER OTHER M P R I NORM DIS2D DIS3D
    MOSAIC MPR MIP MINIP VOLUME REFORMATTED RESAMPLED CSA PROJECTION IMAGE SUBTRACTION
    FILTERED ND MFSPLIT MPR_THICK CURVED VOLUME_RENDER SURFACE CPR PERFUSION DIFFUSION
    ADC TRACEW FA EXP T1 T2 PD DIXON WATER FAT IN_PHASE OUT_PHASE PHASE MAGNITUDE REAL
    IMAGINARY ANGIO MAXIMUM MINIMUM MEAN SUM STATIC DYNAMIC GATED WHOLE_BODY TOMO
    RECON TOMO RECON GATED TOMO EMISSION TRANSMISSION CALIBRATION MIXED HELICAL
    DUAL_ENERGY MONOENERGETIC IODINE VNC POST_CONTRAST PRE_CONTRAST SCREENING DIAGNOSTIC
    VIEW POST_PROCESSED FLUOROSCOPY SINGLE PLANE BIPLANE A B 3D 2D CINE SCOUT DRR
    PORTAL SIMULATOR BLANK MEASUREMENT LOW_ENERGY HIGH_ENERGY CONTRAST NONE
    CT_SOM5 SPI HEADER RADIAL DEFAULT""".split()
)
DEFINED_TERMS: dict[str, frozenset[str]] = {
    "ImageType": _IMAGE_TYPE_TERMS,
    "FrameType": _IMAGE_TYPE_TERMS,
    "Modality": frozenset(
        """AR ASMT AU BDUS BI BMD CR CT CTPROTOCOL DG DOC DX ECG EPS ES FID GM HC HD IO IOL
        IVOCT IVUS KER KO LEN LS MG MR M3D NM OAM OCT OP OPM OPT OPTBSV OPTENF OPV OSS OT
        PA PLAN POS PR PX PT RESP RF RG RTDOSE RTIMAGE RTINTENT RTPLAN RTRAD RTRECORD
        RTSEGANN RTSTRUCT RWV SEG SM SMR SR SRF STAIN TEXTUREMAP TG US VA XA XAPROTOCOL XC
        DS DF CF DM EC FA FS LP MA MS OPR ST VF""".split()
    ),
    "PatientPosition": frozenset(
        """HFP HFS HFDR HFDL FFDR FFDL FFP FFS LFP LFS RFP RFS AFDR AFDL PFDR PFDL HFV FFV
        SITTING""".split()
    ),
    "Laterality": frozenset({"R", "L"}),
    "ImageLaterality": frozenset({"R", "L", "U", "B"}),
    "ViewPosition": frozenset(
        """AP PA LL RL RLD LLD RLO LLO LAO RAO LPO RPO LAT CC MLO ML LM XCC XCCL XCCM FB
        SIO ISO LMO AT""".split()
    ),
    "PhotometricInterpretation": frozenset(
        """MONOCHROME1 MONOCHROME2 PALETTE COLOR RGB HSV ARGB CMYK YBR_FULL YBR_FULL_422
        YBR_PARTIAL_422 YBR_PARTIAL_420 YBR_ICT YBR_RCT XYB""".split()
    )
    | {"PALETTE COLOR"},
    "PresentationLUTShape": frozenset({"IDENTITY", "INVERSE"}),
    "VOILUTFunction": frozenset({"LINEAR", "LINEAR_EXACT", "SIGMOID"}),
    "LossyImageCompression": frozenset({"00", "01"}),
    "LossyImageCompressionMethod": frozenset(
        {
            "ISO_10918_1",
            "ISO_14495_1",
            "ISO_15444_1",
            "ISO_15444_15",
            "ISO_13818_2",
            "ISO_14496_10",
            "ISO_23008_2",
            "ISO_18181_1",
        }
    ),
    "BurnedInAnnotation": frozenset({"YES", "NO"}),
    "RecognizableVisualFeatures": frozenset({"YES", "NO"}),
    "ScanningSequence": frozenset({"SE", "IR", "GR", "EP", "RM"}),
    "SequenceVariant": frozenset({"SK", "MTC", "SS", "TRSS", "SP", "MP", "OSP", "NONE", "OTHER"}),
    "MRAcquisitionType": frozenset({"2D", "3D"}),
    "PixelSpacingCalibrationType": frozenset({"GEOMETRY", "FIDUCIAL"}),
    "BodyPartExamined": frozenset(
        """ABDOMEN ABDOMENPELVIS ADRENAL AORTA ANKLE APPENDIX ARM AXILLA BACK BILEDUCT BLADDER
        BRAIN BREAST BRONCHUS BUTTOCK CALCANEUS CALF CAROTID CEREBELLUM CERVIX CHEST
        CHESTABDOMEN CHESTABDPELVIS CIRCLEOFWILLIS CLAVICLE COCCYX COLON CORONARYARTERY
        CSPINE CTSPINE DUODENUM EAR ELBOW EXTREMITY ESOPHAGUS EYE FACE FEMUR FINGER FOOT
        GALLBLADDER HAND HEAD HEADNECK HEART HIP HUMERUS ILEUM ILIUM IAC JAW JEJUNUM KIDNEY
        KNEE LARYNX LEG LIVER LSPINE LSSPINE LUNG MAXILLA MEDIASTINUM MOUTH NECK
        NECKCHEST NECKCHESTABDOMEN NECKCHESTABDPELV NOSE ORBIT OVARY PANCREAS PAROTID PATELLA
        PELVIS PENIS PHARYNX PROSTATE RADIUS RECTUM RIB SACRUM SCAPULA SCLERA SCROTUM
        SHOULDER SKULL SPINE SPLEEN STERNUM STOMACH SUBMANDIBULAR TMJ TESTIS THIGH THUMB
        THYMUS THYROID TIBIA TOE TONGUE TRACHEA TSPINE TLSPINE ULNA URETER URETHRA UTERUS
        VAGINA VULVA WHOLEBODY WRIST ZYGOMA ARTERY VEIN VESSEL SINUS PITUITARY SELLA
        PORTALVEIN BONE SOFTTISSUE CHEST_TO_PELVIS HEAD_NECK""".split()
    ),
}
DEFINED_TERMS.update(IOD_TERMS)
# PatientOrientation: one or two letters among A P R L H F per value ("A\F", "LP\F").
_ORIENTATION = re.compile(r"[APRLHF]{1,3}")

# Attributes whose value sitegen sets itself or must keep unconditionally.
_FREE_TEXT_KEPT = frozenset(
    {
        "Manufacturer",
        "ManufacturerModelName",
        "ConvolutionKernel",
        "StackID",
        "RescaleType",
        "ModalityLUTType",
        "LUTExplanation",
    }
)
# Free text kept under those: no name separators, no line breaks, printable only.
_SAFE_TEXT = re.compile(r"[\w .,:;()+\-/#%&*']{0,64}")


def dictionary_vrs(tag: BaseTag) -> tuple[str, ...]:
    """The VRs the dictionary allows for a tag ("US or SS" -> both); () when unknown."""
    try:
        return tuple(v.strip() for v in dictionary_VR(tag).split(" or "))
    except KeyError:
        return ()


def wrong_vr(tag: BaseTag, vr: str) -> bool:
    """True when a standard attribute was written with a VR its dictionary entry does not
    allow (KVP as LT): its value is then whatever the writer wanted."""
    allowed = dictionary_vrs(tag)
    return bool(allowed) and vr not in allowed


def bad_values(keyword: str, vr: str, values: list[str]) -> list[str]:
    """The values of a kept element that do not fit its VR's grammar or defined terms."""
    bad: list[str] = []
    terms = DEFINED_TERMS.get(keyword)
    grammar = _GRAMMAR.get(vr)
    limit = _MAX_LENGTH.get(vr)
    for raw in values:
        value = raw.strip(" \x00")
        if not value:
            continue
        if limit is not None and len(value) > limit:
            bad.append(raw)
        elif grammar is not None and not grammar.fullmatch(value):
            bad.append(raw)
        elif terms is not None and value not in terms:
            bad.append(raw)
        elif keyword == "PatientOrientation" and not _ORIENTATION.fullmatch(value):
            bad.append(raw)
        elif keyword in _FREE_TEXT_KEPT and not _SAFE_TEXT.fullmatch(value):
            bad.append(raw)
        elif keyword == "CodeMeaning" and not standard_meaning(value):
            bad.append(raw)
    return bad


@lru_cache(maxsize=1)
def _code_meanings() -> frozenset[str]:
    """The meanings of every code pydicom's concept dictionaries know (DCM, SCT, ...)."""
    from pydicom.sr._concepts_dict import concepts

    return frozenset(
        meaning.lower()
        for scheme in concepts.values()
        for codes in scheme.values()
        for meaning, _ in codes.values()
    )


@lru_cache(maxsize=1)
def _code_values() -> frozenset[str]:
    from pydicom.sr._concepts_dict import concepts

    return frozenset(code for scheme in concepts.values() for c in scheme.values() for code in c)


def standard_code(value: str) -> bool:
    """A code value of the standard's dictionaries (SNOMED 10200004 "Liver"): not an
    identifier, whatever its digits look like."""
    return value.strip() in _code_values()


def standard_meaning(value: str) -> bool:
    """A code meaning the standard's dictionaries know, or one made only of its words (a
    kept code item's free text must not carry a name)."""
    from ._canary import _standard_words

    return value.lower() in _code_meanings() or _standard_words(value)
