import pathlib

import pytest


DATA = pathlib.Path(__file__).parents[1] / "data" / "broker"


@pytest.fixture
def data_dir():
    return DATA
