"""The stable, torch-free asset interface: one module per asset kind (types + manifest codec), the generic
types they share, the manifest, packing, digests, errors and atomic writes."""
