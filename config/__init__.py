"""Tessera configuration: every setting is a TESSERA_* environment variable declared in settings.py."""
