"""What nanobook_rebalancer offers to ``nanobook.capabilities()``.

Declared as an entry point of the group ``nanobook.capabilities`` in
pyproject.toml; the core reads that group and never names this package.
"""
import importlib.util


def rebalancer_cli() -> bool:
    """The ``rebalance`` command's module is present (its optional UI
    dependency, rich, is installed with the ``rebalancer`` extra)."""
    return importlib.util.find_spec("nanobook_rebalancer.cli") is not None
