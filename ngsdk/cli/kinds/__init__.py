"""Each asset kind's share of the CLI: its lines of ``ngsdk inspect`` and its ``ngsdk decode`` (named by
``ngsdk.kinds``). One module per kind; the commands stay kind-agnostic."""
