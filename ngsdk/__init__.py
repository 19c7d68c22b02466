"""ngsdk: train small neural graphics models and ship them into engines as assets."""

__version__ = "0.1.0"
