"""One package per documented JSON API (docs/dialects/): its document object and tables,
its shapes, and its views by topic."""
