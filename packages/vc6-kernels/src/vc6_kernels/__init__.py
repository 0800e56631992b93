"""Placeholder: the public API is re-exported here as modules land."""
