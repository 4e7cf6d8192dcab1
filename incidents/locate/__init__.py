"""Locate posts: GPS, street names in the text, place bounding boxes."""
