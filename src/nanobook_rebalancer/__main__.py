"""``python -m nanobook_rebalancer`` = the ``rebalance`` console script."""
import sys

from .cli import main

sys.exit(main())
