"""Domain services: the logic, no HTTP, the caller commits."""
