from typing import Any

from typing_extensions import disjoint_base

import numpy as np

ORDER_FIELDS: list[str]
ORDER_DTYPE: np.dtype
FILL_DTYPE: np.dtype
RECORD_DTYPE: np.dtype
BBO_DTYPE: np.dtype
RESPONSE_DTYPE: np.dtype

@disjoint_base
class SimCore:
    queue_model: int
    queue_power: float
    maker_fee: float
    taker_fee: float
    order_fee: float
    multiplier: float
    record_interval: int
    timer_interval: int
    want_book: bool
    want_depth: bool
    want_trade: bool
    want_fill: bool
    want_order: bool
    want_timer: bool
    now: int
    position: int
    local_position: int
    last_rank: int
    volume: int
    local_volume: int
    cash: float
    fees: float
    local_cash: float
    local_fees: float
    cur_row: int
    cur_resp: int
    n_exch_done: int
    n_local_done: int
    maker_fee_qty: float
    taker_fee_qty: float
    fill_fee: float
    lot: int
    round_nearest: bool
    ks_enabled: bool
    ks_max_position: int
    ks_max_drawdown_pct: float
    ks_max_daily_loss: float
    capital: float
    hwm: float
    day_start: float
    ks_day: int
    kill_ts: int
    kill_rule: int
    kill_equity: float
    progress_every: int
    next_progress: int
    last_tick_exch: int
    until: int
    def __init__(self) -> None: ...
    def setup(
        self,
        cols: np.ndarray,
        xi: np.ndarray,
        li: np.ndarray,
        entry: Any,
        response: Any,
        queue_model: int,
        queue_power: float,
        maker_fee: float,
        taker_fee: float,
        order_fee: float,
        multiplier: float,
        record_interval: int,
        timer_interval: int,
        start: int,
    ) -> None: ...
    def use_ladder(self, lo: int, hi: int) -> None: ...
    def configure(
        self,
        lot: int,
        round_nearest: bool,
        ks_enabled: bool,
        ks_max_position: int,
        ks_max_drawdown_pct: float,
        ks_max_daily_loss: float,
        capital: float,
        progress_every: int,
    ) -> None: ...
    def submit(self, side: int, price: int, qty: int, flags: int) -> int: ...
    def cancel(self, order_id: int) -> bool: ...
    def modify(self, order_id: int, price: int, qty: int) -> bool: ...
    def peek(self) -> int | None: ...
    def advance(self) -> int: ...
    def account(self) -> tuple[int, float, float, float, float, int]: ...
    def local_bbo(self) -> tuple[int, int, int, int]: ...
    def local_depth(self, n: int) -> np.ndarray: ...
    def exch_level(self, side: int, price: int) -> int: ...
    def order_row(self, order_id: int) -> tuple[int, int, int, int, int, int]: ...
    def local_open(self) -> list[int]: ...
    def response(self, i: int) -> tuple[int, int, int, int, int, int, int]: ...
    def fill_row(self, i: int) -> tuple[int, float, int]: ...
    @property
    def n_orders(self) -> int: ...
    @property
    def n_live(self) -> int: ...
    @property
    def data_done(self) -> bool: ...
    def orders_array(self) -> np.ndarray: ...
    def fills_array(self) -> np.ndarray: ...
    def records_array(self) -> np.ndarray: ...
    def bbo_array(self) -> np.ndarray: ...
    def responses_array(self) -> np.ndarray: ...

def feed_latency(exch_ts: np.ndarray, model: Any) -> np.ndarray: ...
def scan_stream(
    md: np.ndarray,
) -> tuple[bool, np.ndarray | None, np.ndarray | None, int, int, int, int | None, int | None]: ...
