"""Portable exports of shading MLPs: the RTXNS JSON network, binary host layouts, inference shaders.

One module per format: ``json_net`` (RTXNS ``{"layers": [...]}``), ``binary`` (fp16/fp32,
row/column-major, portable header), ``wgsl``, ``glsl``, ``hlsl``, ``slang`` (generated shaders that
evaluate the network by the fp16 contract of docs/shading.md). ``portable.write_portable`` writes the
set a bundle ships with; ``bundle.write_shading_mlp`` writes the whole .ngasset bundle.
"""
