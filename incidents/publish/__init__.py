"""Publish: the read model of the open-data API (what is published, filtered, encoded)."""
