import pathlib
import sys

import pytest

# Until the editable install is refreshed to map nanobook_broker, fall back to the checkout.
try:
    import nanobook_broker  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

DATA = pathlib.Path(__file__).parents[1] / "data" / "broker"


@pytest.fixture
def data_dir():
    return DATA
