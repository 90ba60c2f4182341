"""Build the configured ``nanobook_broker`` adapter (imported lazily)."""
from __future__ import annotations

from importlib import resources
from typing import Any

from .config import Config

__all__ = ["open_broker", "bundled_price_file"]


def bundled_price_file() -> str:
    """Path of the bundled paper-broker prices (20 S&P 100 stocks, closes of 2026-05-11)."""
    return str(resources.files("nanobook_rebalancer") / "data" / "paper_prices.csv")


def open_broker(cfg: Config) -> Any:
    """A broker object for ``cfg.broker.kind`` (not yet connected)."""
    kind = cfg.broker.kind
    if kind == "paper":
        from nanobook_broker import PaperBroker

        p = cfg.paper
        price_file = str(cfg.path(p.price_file)) if p.price_file else bundled_price_file()
        return PaperBroker(
            cfg.paper_state_path,
            initial_cash_cents=int(round(p.initial_cash_usd * 100)),
            price_file=price_file,
            spread_bps=p.spread_bps,
            commission_bps=p.commission_bps,
            liquidity=p.liquidity or None,
            allow_short=p.allow_short,
            leverage=p.leverage,
        )
    if kind == "ibkr":
        from nanobook_broker import IbkrBroker  # type: ignore[attr-defined]

        i = cfg.ibkr
        return IbkrBroker(i.host, i.port, i.client_id, timeout=i.timeout_secs,
                          account=cfg.account.id or None)
    if kind == "binance":
        from nanobook_broker import BinanceBroker  # type: ignore[attr-defined]

        b = cfg.binance
        kwargs: dict[str, Any] = {"testnet": b.testnet, "quote_asset": b.quote_asset,
                                  "quantity_decimals": b.quantity_decimals,
                                  "unknown_outcome_window": b.unknown_outcome_window_secs}
        if b.base_url:
            kwargs["base_url"] = b.base_url
        return BinanceBroker(b.api_key.reveal(), b.api_secret.reveal(), **kwargs)
    raise ValueError(f"broker.kind must be 'paper', 'ibkr' or 'binance', got {kind!r}")
