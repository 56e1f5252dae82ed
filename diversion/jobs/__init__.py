"""Background jobs: run by one dedicated scheduler process, each run exactly once."""
