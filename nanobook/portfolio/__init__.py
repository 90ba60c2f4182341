"""nanobook.portfolio (being built)."""
__all__: list[str] = []
