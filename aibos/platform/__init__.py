"""Shared, thin infrastructure: settings, database, errors, logging, security contract."""
