"""Berth's web UI: server-rendered pages over the other services' APIs."""
