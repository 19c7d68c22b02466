"""Verify codes of multi-view PBR reconstruction networks (kind ``pbr_reconstruction``,
ngsdk.verify.pbr_reconstruction)."""

from ngsdk.verify.catalog import Code, Severity

MANIFEST = Code(
    "PB001", "manifest", Severity.ERROR,
    "manifest.json is JSON, its format version is one this ngsdk reads, and it satisfies the JSON Schemas.",
    "Re-export the bundle with this ngsdk; an unknown major version needs a newer ngsdk.")
FILES = Code(
    "PB002", "files", Severity.ERROR,
    "Every file listed in the manifest is present with the recorded size and sha256.",
    "The bundle was changed or copied incompletely: copy it again or re-export it.")
WEIGHTS = Code(
    "PB003", "weights", Severity.ERROR,
    "weights.npz holds the manifest's number of float32/int64 arrays, all finite, and the parameter count the "
    "manifest records.",
    "Re-write the bundle (`ngsdk train pbr ... --out`); the message names the file that disagrees.")
REFERENCE = Code(
    "PB004", "reference set", Severity.ERROR,
    "reference.npz holds views at the input size and the trained model's outputs at the output size: finite, "
    "maps in [0, 1], unit normals, the float32 samples equal to the float16 maps within float16 rounding; SKIP "
    "when the bundle has no reference set (then the exports cannot be checked).",
    "Re-write the bundle from the training data (`ngsdk train pbr DATA ...` stores two held-out samples).")
COREML = Code(
    "PB005", "Core ML export", Severity.ERROR,
    "Each Core ML export run by ngsdk's MIL interpreter (thresholded_relu, reduce_l2_norm and image IO "
    "included) on the reference views: fp32 programs within the fp32 bound of the trained model's outputs, "
    "fp16 programs with every map's PSNR against them at or above the fp16 bar and the max error within the "
    "fp16 bound (bounds in docs/pbr-reconstruction.md); image outputs in 8-bit pixels.",
    "Re-export (`ngsdk export BUNDLE --format coreml`); a fp16 failure that stays means the network overflows "
    "or loses precision in fp16: export fp32, or retrain.")
ONNX = Code(
    "PB006", "ONNX export", Severity.ERROR,
    "Each ONNX export run by onnxruntime on the reference views within the fp32 bound of the trained model's "
    "outputs, and a batch of one giving the first sample of the batch; SKIP when onnxruntime is not installed.",
    "Re-export (`ngsdk export BUNDLE --format onnx`); a SKIP names what to install (`pip install "
    "'ngsdk[export]'`).")
SOURCE = Code(
    "PB007", "source", Severity.ERROR,
    "With `--source`: a NeuroPBR data folder (the held-out `DATA/test` of `ngsdk synth pbr-views`, or real "
    "captures) whose samples and material maps can be read.",
    "Point `--source` at a folder with input/ and output/ (docs/pbr-reconstruction.md, data layout).")
QUALITY = Code(
    "PB008", "quality", Severity.ERROR,
    "With `--source`: the network (run through its fp32 export, Core ML interpreter or onnxruntime) on up to 8 "
    "samples; per-map PSNR, SSIM and MAE and the normal angle error (mean, median, 90th percentile) beside the "
    "naive baseline (mean of the views, flat normal, roughness 0.5, metallic 0); FAIL when the mean map PSNR "
    "is below `--min-psnr`; SKIP without an export to run.",
    "Train longer or on more data; export first (`ngsdk export BUNDLE --format coreml`) so verify can run it.")
