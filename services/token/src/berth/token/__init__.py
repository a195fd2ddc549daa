"""Berth's token service: identity provider and the registry's token server."""
