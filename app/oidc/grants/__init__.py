"""One module per grant type the token endpoint serves."""

# Every client authentication method the token endpoint accepts; each client may use only
# its own. Clients can be registered for private_key_jwt and client_secret_jwt, but the
# token endpoint does not verify client assertions yet, so those are not listed here.
TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
