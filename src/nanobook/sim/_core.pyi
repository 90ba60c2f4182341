from typing import Any

from typing_extensions import disjoint_base

import numpy as np

from .dtypes import (
    BBO_DTYPE as BBO_DTYPE,
    FILL_DTYPE as FILL_DTYPE,
    MD_DTYPE as MD_DTYPE,
    ORDER_DTYPE as ORDER_DTYPE,
    ORDER_FIELDS as ORDER_FIELDS,
    RECORD_DTYPE as RECORD_DTYPE,
    RESPONSE_DTYPE as RESPONSE_DTYPE,
    ResponseRow,
    StreamScan,
)
from .engine import CoreParams

# Structured arrays are typed np.ndarray; the comment after each signature
# names their dtype (nanobook/sim/dtypes.py).

def _layout() -> dict[str, dict[str, Any]]: ...

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
        md: np.ndarray,  # MD_DTYPE, C-contiguous
        exch_rows: np.ndarray,  # int64 row numbers of the EXCH rows
        local_rows: np.ndarray,  # int64 row numbers of the LOCAL rows
        params: CoreParams,
    ) -> None: ...
    def use_window(self, lo: int, hi: int) -> None: ...
    def submit(self, side: int, price: int, qty: int, flags: int) -> int: ...
    def cancel(self, order_id: int) -> bool: ...
    def modify(self, order_id: int, price: int, qty: int) -> bool: ...
    def peek(self) -> int | None: ...
    def advance(self) -> int: ...
    def account(self) -> tuple[int, float, float, float, float, int]: ...
    def local_bbo(self) -> tuple[int, int, int, int]: ...
    def local_depth(self, n: int) -> np.ndarray: ...  # int64 (4, n): bid px, bid qty, ask px, ask qty
    def exch_level(self, side: int, price: int) -> int: ...
    def order_row(self, order_id: int) -> tuple[int, int, int, int, int, int]: ...
    def local_open(self) -> list[int]: ...
    def response(self, i: int) -> ResponseRow: ...
    def fill_row(self, i: int) -> tuple[int, float, int]: ...
    @property
    def n_orders(self) -> int: ...
    @property
    def n_live(self) -> int: ...
    @property
    def data_done(self) -> bool: ...
    def orders_array(self) -> np.ndarray: ...  # ORDER_DTYPE
    def fills_array(self) -> np.ndarray: ...  # FILL_DTYPE
    def records_array(self) -> np.ndarray: ...  # RECORD_DTYPE
    def bbo_array(self) -> np.ndarray: ...  # BBO_DTYPE
    def responses_array(self) -> np.ndarray: ...  # RESPONSE_DTYPE

def feed_latency(exch_ts: np.ndarray, model: Any) -> np.ndarray: ...
def scan_stream(md: np.ndarray) -> StreamScan: ...  # md: MD_DTYPE, C-contiguous
