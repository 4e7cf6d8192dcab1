"""The listening pipeline: posts in, incidents out."""
