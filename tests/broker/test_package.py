import pathlib
import subprocess
import sys

import nanobook_broker


def test_public_surface():
    assert "PaperBroker" in nanobook_broker.__all__ and "Broker" in nanobook_broker.__all__
    for name in nanobook_broker.__all__:
        assert hasattr(nanobook_broker, name), name
    for exc in ("NotConnected", "OrderRejected", "RateLimited", "OrderOutcomeUnknown", "AuthenticationError"):
        cls = getattr(nanobook_broker, exc)
        assert issubclass(cls, nanobook_broker.BrokerError) and issubclass(cls, RuntimeError)
    assert issubclass(nanobook_broker.InvalidOrder, ValueError)
    assert issubclass(nanobook_broker.OrderNotFound, LookupError)


def test_import_is_lazy_and_probe_imports_nothing():
    code = (
        "import sys, nanobook_broker as b; names = b.available_brokers(); "
        "print(names, [m for m in ('ib_async', 'ib_insync', 'binance', 'eventkit', 'requests', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=str(pathlib.Path(__file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr
    names, loaded = out.stdout.strip().rsplit("] ", 1)[0] + "]", out.stdout.strip().rsplit("] ", 1)[1]
    assert loaded == "[]"
    assert names.startswith("['paper'")


def test_available_brokers_reflects_installed_sdks():
    import importlib.util

    names = nanobook_broker.available_brokers()
    assert ("ibkr" in names) == bool(importlib.util.find_spec("ib_async") or importlib.util.find_spec("ib_insync"))
    assert ("binance" in names) == bool(importlib.util.find_spec("binance"))


def test_deterministic_client_order_id():
    a = nanobook_broker.deterministic_client_order_id("scope", "AAPL", "buy", 10)
    assert a == nanobook_broker.deterministic_client_order_id("scope", "AAPL", "buy", 10)
    assert len(a) == 32 and nanobook_broker.validate_client_order_id(a, allow_dot=False) == a
    assert a != nanobook_broker.deterministic_client_order_id("scope", "AAPL", "sell", 10)
