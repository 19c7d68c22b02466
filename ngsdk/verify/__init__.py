"""``ngsdk verify``: checks of bundles with the reference runtime, reports as JSON, HTML and text."""
