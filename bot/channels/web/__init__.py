"""The web archive: pages rendered from the same templates as every other channel."""
