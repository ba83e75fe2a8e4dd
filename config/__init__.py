"""Tessera configuration: every TESSERA_* environment variable is declared in settings.py."""
