"""Self-contained domain modules, each owned by one team."""
