"""One module per documented API (api-docs/): its routes, envelope and error table."""
