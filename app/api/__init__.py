"""The JSON compatibility API: one core, five documented dialects (see api-docs)."""
