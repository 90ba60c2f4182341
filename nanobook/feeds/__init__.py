"""nanobook.feeds (being built)."""
__all__: list[str] = []
