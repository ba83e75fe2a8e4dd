"""The JSON dialects over HTTP: each dialect's endpoints, the scenarios they share, and the
golden envelopes (golden/)."""
