"""Berth's syncer: registry notifications, the reconcile, every call to the registry."""
