"""``python -m ngsdk.runtime_ref.vgf [--dir DIR] [--any-driver]``: print shell exports for the emulation layer."""

from ngsdk.runtime_ref.vgf.layers import main

raise SystemExit(main())
