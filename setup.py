"""The import names of the three top-level folders (the rest of the packaging is in pyproject.toml).

``exporters/`` and ``runtime_ref/`` install as ``ngsdk.exporters`` and ``ngsdk.runtime_ref``: top-level
names such as ``exporters`` belong to other PyPI projects, and installing beside one of them must leave
both importable. Every package below each folder is listed, so a new sub-package ships without edits here.
"""

from setuptools import find_packages, setup

FOLDERS = {"ngsdk": "ngsdk", "ngsdk.exporters": "exporters", "ngsdk.runtime_ref": "runtime_ref"}

setup(
    package_dir=FOLDERS,
    packages=[p for name, folder in FOLDERS.items() for p in [name, *(f"{name}.{s}" for s in find_packages(folder))]],
)
