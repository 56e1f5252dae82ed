"""Demo data: placeholder replaced below."""
