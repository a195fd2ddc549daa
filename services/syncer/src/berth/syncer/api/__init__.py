"""HTTP blueprints of the syncer."""
