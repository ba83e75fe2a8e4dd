"""Tests that drive the hosted pages in Chromium (a package, so basenames may repeat)."""
