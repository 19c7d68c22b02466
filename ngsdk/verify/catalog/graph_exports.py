"""Verify codes of graph exports (ONNX, Core ML, VGF), for every asset kind."""

from ngsdk.verify.catalog import Code, Severity

RECORDED_REFERENCE = Code(
    "GX001", "graph export", Severity.ERROR,
    "Each export (one check per format, precision and graph): its files' sha256, then a run of the graph (ONNX "
    "Runtime, ngsdk's Core ML interpreter, the VGF scenario runner on lavapipe) on the inputs stored beside it, "
    "within the stored bound of the outputs of the model it was exported from.",
    "Re-export (`ngsdk export BUNDLE --format ...`); a SKIP names the tool to install (`pip install "
    "'ngsdk[export]'`).")
RUNTIME_REF = Code(
    "GX002", "graph export vs runtime_ref", Severity.ERROR,
    "Float exports against ngsdk's own reference runtime on the bundle itself: neural textures (float decode "
    "mode) the decode of mip 0 or the whole mip, shading MLPs the fp32 evaluation at 8192 texel centres, "
    "neural volumes each brick's float MLP; max error within 1e-5.",
    "Re-export; a failure that stays means the graph exporter and the reference runtime disagree: report it.")
