"""Verify codes of super-sampling bundles (kind ``supersampling``, ngsdk.verify.supersampling)."""

from ngsdk.verify.catalog import Code, Severity

MANIFEST = Code(
    "SS001", "manifest", Severity.ERROR,
    "manifest.json is JSON, its format version is one this ngsdk reads, and it satisfies the JSON Schemas.",
    "Re-export the bundle with this ngsdk; an unknown major version needs a newer ngsdk.")
FILES = Code(
    "SS002", "files", Severity.ERROR,
    "Every file listed in the manifest is present with the recorded size and sha256.",
    "The bundle was changed or copied incompletely: copy it again or re-export it.")
WEIGHTS = Code(
    "SS003", "weights", Severity.ERROR,
    "weights.npz, int8.npz and reference_clip.npz hold the manifest's arrays with their dtypes and shapes.",
    "Re-export the bundle; the message names the file that disagrees.")
FLOAT_NETWORK = Code(
    "SS004", "float network", Severity.ERROR,
    "runtime_ref's float32 network on the clip's recorded network inputs gives the recorded outputs within "
    "1e-4 (NumPy and torch sum in different orders).",
    "The weights do not belong to the clip: re-export the bundle from its training run.")
INT8_NETWORK = Code(
    "SS005", "int8 network", Severity.ERROR,
    "runtime_ref's int8 network in TOSA arithmetic on the clip's recorded inputs gives exactly the recorded "
    "int8 output codes (0 mismatches); SKIP for a bundle without int8 network.",
    "The int8 constants do not belong to the clip, or the quantization changed: retrain or re-export.")
CLIP_REPLAY = Code(
    "SS006", "clip replay", Severity.ERROR,
    "The whole pipeline (pre-processing, network, post-processing, history) in NumPy over the clip's raw "
    "inputs reproduces the recorded frames: fp32 within 1e-4; int8 with a mean error under 1e-5 and a maximum "
    "under 2^-5 (a 1e-7 difference in a network input can move one input code, and the history carries it).",
    "The pre/post-processing constants (dm_scale, exposure, jitter) in manifest.json were edited: re-export.")
INT8_VGF = Code(
    "SS007", "int8 VGF vs runtime_ref", Severity.ERROR,
    "The int8 VGF run on lavapipe (Vulkan ML emulation layer) on a clip frame gives exactly runtime_ref's int8 "
    "output codes (0 mismatches); SKIP without an int8 VGF export or without the VGF tools.",
    "Re-export the VGF from this bundle (`ngsdk export B --format vgf --precision int8`).")
QUALITY = Code(
    "SS008", "quality", Severity.ERROR,
    "With `--source`: PSNR, tPSNR, recPSNR and SSIM of the fp32 and int8 pipelines on Reinhard-tonemapped "
    "frames of the source sequences (NumPy runtime), beside the bilinear and TAAU baselines; FAIL below "
    "`--min-psnr`.",
    "Train longer or on more data, or lower `--min-psnr`.")
