"""Verify codes of shading MLPs (kind ``shading_mlp``, ngsdk.verify.shading_mlp)."""

from ngsdk.verify.catalog import Code, Severity

MANIFEST = Code(
    "SM001", "manifest", Severity.ERROR,
    "manifest.json is JSON, its format version is one this ngsdk reads, and it satisfies the JSON Schemas.",
    "Re-export the bundle with this ngsdk; an unknown major version needs a newer ngsdk.")
FILES = Code(
    "SM002", "files", Severity.ERROR,
    "Every file listed in the manifest is present with the recorded size and sha256.",
    "The bundle was changed or copied incompletely: copy it again or re-export it.")
WEIGHTS = Code(
    "SM003", "weights", Severity.ERROR,
    "The weights npz holds the manifest's arrays with their dtypes and shapes, consistent with the encoding.",
    "Re-export the bundle; the message names the file that disagrees.")
PORTABLE_EXPORTS = Code(
    "SM004", "portable exports", Severity.ERROR,
    "The RTXNS JSON network and every binary layout read back to exactly the bundle's fp16 (or fp32) weights, "
    "encoding and activations; SKIP when the bundle has none.",
    "Re-write the bundle (`ngsdk export BUNDLE`) so the portable files are generated again.")
FP16_DECODE = Code(
    "SM005", "fp16 decode", Severity.ERROR,
    "runtime_ref's fp16 decode of every texel hashes to the trainer's recorded value, no texel decodes to NaN, "
    "and the JSON network evaluated on its own gives the same bits; FAIL when no hash is recorded (WARN under "
    "`--allow-missing-reference`).",
    "The bundle was edited, or the network overflows fp16: retrain (a smaller learning rate keeps weights in "
    "range).")
FP32_DECODE = Code(
    "SM006", "fp32 decode", Severity.ERROR,
    "The strict fp32 decode hashes to the trainer's recorded value; FAIL when no hash is recorded (WARN under "
    "`--allow-missing-reference`).",
    "The bundle was edited, or a reader is wrong: re-export it.")
SOURCE = Code(
    "SM007", "source", Severity.ERROR,
    "With `--source`: the image can be read and its sha256 matches the one recorded in the provenance (WARN "
    "when it differs or is not recorded).",
    "Give the image the bundle was trained on.")
QUALITY = Code(
    "SM008", "quality", Severity.ERROR,
    "With `--source`: PSNR of the fp16 decode (what engines show) and of the fp32 decode against the image, "
    "looked up as in training; FAIL below `--min-psnr` (without a source, against the recorded PSNR).",
    "Train longer or a larger network, or lower `--min-psnr`.")
