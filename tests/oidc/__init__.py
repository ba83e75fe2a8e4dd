"""The OAuth 2.0 / OpenID Connect endpoints over HTTP, through the Flask test client."""
