"""Neural texture compression: ingest, training (torch), metrics, previews."""
