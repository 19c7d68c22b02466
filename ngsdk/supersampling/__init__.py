"""Neural super sampling (Arm NSS, the Neural Graphics Model Gym's use case).

Modules, one job each (torch only where a module trains or renders):

- ``frames``: :class:`FrameSequence`, one captured sequence in the gym's conventions (numpy).
- ``safetensors_io``: the gym's per-sequence ``.safetensors`` files, read and write (numpy).
- ``exr_io``: OpenEXR files and the gym's EXR capture tree, read and write (numpy).
- ``jitter``: the quantized Halton(2, 3) jitter table (numpy).
- ``depth``: forward-Z device depth <-> view depth, FSR2's ``depth_params`` (numpy).
- ``synth``: a torch ray caster that renders training sequences.
- ``tonemap``, ``sampling``, ``preprocess``, ``postprocess``, ``network``, ``pipeline``: the NSS model.
- ``loss``, ``lpips``, ``optim``, ``quant``, ``dataset``, ``checkpoint``, ``gym_checkpoint``, ``previews``,
  ``reference``, ``config``, ``train``: training, int8 QAT and what the asset layer needs.

docs/supersampling.md describes data conventions, model, training and the differences from the gym.
"""
