"""Printable documents (PDF): built from plain data a service assembled; no Flask."""
