"""The audit service's domain logic; callers own the transaction."""
