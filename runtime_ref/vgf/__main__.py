"""``python -m runtime_ref.vgf [--dir DIR] [--any-driver]``: print shell exports for the emulation layer."""

from runtime_ref.vgf.layers import main

raise SystemExit(main())
