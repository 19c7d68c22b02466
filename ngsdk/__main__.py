"""``python -m ngsdk`` runs the CLI."""

from ngsdk.cli import main

main()
