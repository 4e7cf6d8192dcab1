"""Publish: what the city's data says, to people and programs (API read models, feeds, pages)."""
