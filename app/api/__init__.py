"""The JSON compatibility API: one core, five documented dialects (see docs/dialects/)."""
