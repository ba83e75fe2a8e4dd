"""The hosted pages over HTTP, through the Flask test client (no browser)."""
