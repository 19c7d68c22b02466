"""Library-scale training on Ray: many materials or volumes, one Ray task each, resumable, one library report.

``library`` finds the items and keys them, ``records`` keeps the per-item state beside each bundle, ``pool``
runs tasks on a local Ray or a cluster, ``texture_task`` / ``volume_task`` are the work of one task,
``driver`` schedules and resumes a batch, ``report`` writes ``report.json`` / ``report.html``, ``bricks``
schedules a volume ensemble's bricks as Ray tasks. Ray is the ``batch`` extra (docs/batch.md).
"""
