"""HTTP blueprints of the audit service."""
