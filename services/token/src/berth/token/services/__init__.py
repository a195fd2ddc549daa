"""Domain logic of the token service: no HTTP, no commits."""
