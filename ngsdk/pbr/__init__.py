"""Multi-view PBR reconstruction (NeuroPBR): three photos of a surface -> albedo, roughness, metallic, normal.

Torch-free: ``config`` (model presets, training options), ``maps`` (material maps and their PNG files),
``layout`` (the NeuroPBR data folder), ``metrics`` (per-map quality and the naive baseline).
Torch: data synthesis (``synth`` over ``render``, ``dirt``, ``materials``, ``procedural``, ``noise``), the
networks (``backbones``, ``fusion``, ``decoder``, ``model``, ``discriminator``), training (``data``, ``losses``,
``train``, ``shards`` for stored teacher outputs, ``weights`` for model files and checkpoints, ``previews``),
and ``infer``. docs/pbr-reconstruction.md describes the data layout, the models and the limits.
"""
