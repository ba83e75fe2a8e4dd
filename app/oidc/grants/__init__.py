"""One module per grant type the token endpoint serves."""

# Every client authentication method the token endpoint accepts; each client may use only
# its own registered one.
TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none",
                               "private_key_jwt", "client_secret_jwt"]
