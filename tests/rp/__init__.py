"""A relying party on openid-client (the Node project beside this file) against a live server."""
