"""Security scanning: inventory, SBOM and known vulnerabilities per image digest."""
