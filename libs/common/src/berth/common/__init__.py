"""Berth's shared library: each cross-service concern exists here once."""
