"""Webhooks: per-namespace callbacks delivered by their own worker."""
