"""nanobook.analytics (being built)."""
__all__: list[str] = []
