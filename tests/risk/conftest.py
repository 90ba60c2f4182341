import pathlib
import sys

# Until the editable install is refreshed to map nanobook_risk, fall back to the checkout.
try:
    import nanobook_risk  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
