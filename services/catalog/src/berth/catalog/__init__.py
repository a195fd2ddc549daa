"""Berth catalog service."""
