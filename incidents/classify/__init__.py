"""Classify posts: is it about public space, and which category of the taxonomy."""
