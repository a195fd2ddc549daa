"""Berth's audit service: every bus event, recorded once in a hash chain."""
