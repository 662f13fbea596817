"""Safety limits for untrusted inputs, in one place."""

MAX_ZIP_TOTAL = 16 * 1024**3  # uncompressed bytes of one zip source
MAX_ZIP_MEMBER = 4 * 1024**3  # uncompressed bytes of one zip member
MAX_ZIP_RATIO = 1000  # uncompressed / compressed of one member: more is a zip bomb...
ZIP_RATIO_CHECK_ABOVE = 256 * 1024**2  # ...when it is this big (a DICOM of zeros is not)
MAX_ZIP_MEMBERS = 200_000
READ_WHOLE_BELOW = 64 * 1024**2  # input files larger than this keep pixel data on disk
