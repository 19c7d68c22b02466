"""Verify codes of neural textures (kind ``neural_texture``, ngsdk.verify.neural_texture)."""

from ngsdk.verify.catalog import Code, Severity

MANIFEST = Code(
    "NT001", "manifest", Severity.ERROR,
    "manifest.json is JSON, its format version is one this ngsdk reads, and it satisfies the JSON Schemas.",
    "Re-export the bundle with this ngsdk; an unknown major version needs a newer ngsdk.")
FILES = Code(
    "NT002", "files", Severity.ERROR,
    "Every file listed in the manifest is present with the recorded size and sha256.",
    "The bundle was changed or copied incompletely: copy it again or re-export it.")
GRIDS_AND_DECODER = Code(
    "NT003", "grids and decoder", Severity.ERROR,
    "Each grid's DDS header agrees with the manifest (format, size, levels, slices), codes have no stray bits, "
    "and the decoder npz holds the manifest's arrays with their dtypes and shapes.",
    "Re-export the bundle; the message names the file that disagrees.")
DECODE_CONSISTENCY = Code(
    "NT004", "decode consistency", Severity.ERROR,
    "runtime_ref's decode of each mip hashes to the value the trainer recorded from its own evaluation "
    "(bit-identical); FAIL when the bundle records no hash for a mip (WARN under `--allow-missing-reference`).",
    "The bundle was edited, or a reader is wrong; the JSON report lists the mips that differ.")
BITS_PER_TEXEL = Code(
    "NT005", "bits per texel", Severity.INFO,
    "Bits per texel recomputed from the stored grid texels and decoder arrays (the figure `--bpp` sizes).",
    "Nothing to fix: a figure for the report.")
SOURCE = Code(
    "NT006", "source", Severity.ERROR,
    "With `--source`: the folder holds exactly the files recorded in the provenance, byte for byte (same names, "
    "same sha256); WARN when the bundle records no source hashes.",
    "Give the material the bundle was trained on; the message names changed, unknown and missing files.")
QUALITY = Code(
    "NT007", "quality", Severity.ERROR,
    "PSNR per texture and overall for every mip against `--source`, FAIL below `--min-psnr`; without a source, "
    "`--min-psnr` is checked against the mip-0 PSNR the trainer recorded (check name `quality (recorded)`).",
    "Train longer, at a higher `--bpp`, or lower `--min-psnr`.")
ENGINE = Code(
    "NT008", "engine conformance", Severity.ERROR,
    "With `--engine`: the bundle's decode mode under the engine's sampler rules (or `--profile`): exact "
    "(worst-case error 0), emulated or bounded with the worst-case byte error; WARN for float bundles.",
    "Train with `--decode exact` for a decode that is identical on every engine.")
TRAINING = Code(
    "NT009", "training", Severity.WARNING,
    "Whether training stopped far from convergence: fewer than 1000 steps, or PSNR still rising by more than "
    "0.5 dB between the last two evaluations.",
    "Train longer (`--time-budget`, `--steps`) or on a GPU (`--device cuda`).")
