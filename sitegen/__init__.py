"""sitegen: DICOM studies -> a static website of teaching cases."""

__version__ = "0.1.0"
