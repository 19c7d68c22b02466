"""Verify codes of neural volumes (kind ``neural_volume``, ngsdk.verify.neural_volume)."""

from ngsdk.verify.catalog import Code, Severity

MANIFEST_AND_FILES = Code(
    "VX001", "manifest and files", Severity.ERROR,
    "manifest.json is JSON of a readable format version satisfying the JSON Schemas, and every listed file is "
    "present with the recorded size and sha256.",
    "Re-export the bundle, or copy it again if files were changed or lost.")
GRIDS_AND_DECODERS = Code(
    "VX002", "grids and decoders", Severity.ERROR,
    "Every grid DDS loads as the manifest's 3D texture (format, size, one mip, unused components 0) and every "
    "brick's npz holds the manifest's arrays with their dtypes and shapes.",
    "Re-export the bundle; the message names the file that disagrees.")
DECODE_CONSISTENCY = Code(
    "VX003", "decode consistency", Severity.ERROR,
    "The sha256 of runtime_ref's full reconstruction equals the trainer's recorded hash (`exact`: bit for bit; "
    "`float` is not bit-defined: SKIP when it differs or is missing); in `exact` mode FAIL when none is recorded "
    "(WARN under `--allow-missing-reference`).",
    "The bundle was edited, or a reader is wrong: re-export it.")
QUALITY = Code(
    "VX004", "quality", Severity.ERROR,
    "With `--source`: PSNR on normalized values (range 1) and the max abs error, also in source units; FAIL "
    "below `--min-psnr` (without a source, against the PSNR the trainer recorded).",
    "Train longer, with a larger preset, or lower `--min-psnr`; check that the source is the trained volume.")
SEAMS = Code(
    "VX005", "seams", Severity.ERROR,
    "Ensembles: where neighbouring bricks' fit boxes overlap, the max abs difference between their decodes "
    "(FAIL above `max_seam` when given); SKIP for a single brick.",
    "Train with more ghost voxels (`--ghost`) or longer.")
COMPRESSION = Code(
    "VX006", "compression", Severity.INFO,
    "Source bytes over stored bytes (grid texels and decoder weights), and the bundle's size on disk.",
    "Nothing to fix: a figure for the report.")
RATE_DISTORTION = Code(
    "VX007", "rate and distortion", Severity.INFO,
    "The compression ratio counting every byte a decoder reads (grid texels, decoder weights, transforms, "
    "scale/offset, brick boxes, normalization; as the ZFP/SZ3 baselines are counted) beside the PSNR on "
    "normalized values and the max abs error (with `--source` measured, else the trainer's recorded figures).",
    "Nothing to fix: a figure for the report.")
BASELINES = Code(
    "VX008", "compressor baselines", Severity.INFO,
    "With `--source` and zfpy/pysz installed: ZFP (fixed rate, fixed accuracy) and SZ3 (absolute error bound) "
    "tuned to the bundle's size, with their PSNR and max abs error beside the bundle's; SKIP without a source or "
    "without the packages.",
    "Nothing to fix: a figure for the report (`pip install zfpy pysz` adds the baselines).")
