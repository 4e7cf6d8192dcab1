"""Publish: the read model that the open-data API and the map share."""
