"""Every limit a reader applies to a bundle or an input file, in one place (docs/security.md lists them).

A reader checks these before it reads, hashes or allocates anything a file asks for, so a hostile or damaged
file ends in one :class:`~ngsdk.asset.errors.AssetError` line instead of a hang or a memory blow-up. The
values are far above what ngsdk writes (a 4k neural texture bundle is a few MB) and at or above what the
formats allow (D3D11's texture sizes), so no real asset meets them.
"""

from __future__ import annotations

MAX_MANIFEST_BYTES = 16 << 20
"""``manifest.json``: 16 MiB (ngsdk writes a few kB to a few hundred kB)."""
MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in any JSON file ngsdk reads (manifests nest about 8 deep)."""
MAX_JSON_INT = 1 << 53
"""Largest integer magnitude in a JSON file (exactly representable as a double, so C++ reads it too)."""

MAX_FILE_BYTES = 2 << 30
"""One file of a bundle (a DDS grid, an npz, a graph export, a reference file): 2 GiB."""
MAX_BUNDLE_BYTES = 16 << 30
"""All files of a bundle together: 16 GiB."""
MAX_FILES = 10_000
"""Entries under ``files`` in a manifest, and regular files inside one listed package folder (.mlpackage)."""
MAX_INPUT_BYTES = 4 << 30
"""An input file given on the command line (a .npy of points or coordinates, a source texture): 4 GiB."""
MAX_SOURCE_PIXELS = 8192 * 8192
"""A training image, checked from its header before it is decoded (a decompression bomb stops here)."""

MAX_NPZ_MEMBERS = 1024
"""Members of one npz archive (a decoder has a few per layer)."""
MAX_ARRAY_BYTES = 1 << 30
"""Uncompressed bytes of one array in an npz or .npy file: 1 GiB."""
MAX_NPZ_BYTES = 2 << 30
"""Uncompressed bytes of all arrays of one npz archive: 2 GiB."""
MAX_ARRAY_DIMS = 8
"""Dimensions of one stored array."""

MAX_TEXTURE_DIM = 16384
"""Width or height of a texture or a feature grid level (D3D11_REQ_TEXTURE2D_U_OR_V_DIMENSION)."""
MAX_VOLUME_DIM = 2048
"""Each extent of a volume or a 3D grid (D3D11_REQ_TEXTURE3D_U_V_OR_W_DIMENSION)."""
MAX_ARRAY_LAYERS = 2048
"""Slices of a texture array (D3D11_REQ_TEXTURE2D_ARRAY_AXIS_DIMENSION)."""
MAX_FEATURES = 4 * MAX_ARRAY_LAYERS
"""Features of one grid (four channels per RGBA slice)."""
MAX_LAYER_WIDTH = 65536
"""Inputs or outputs of one decoder layer."""
