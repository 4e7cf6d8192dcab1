"""Publish: the REST API (DRF), OGC API – Features and Open311 endpoints."""
