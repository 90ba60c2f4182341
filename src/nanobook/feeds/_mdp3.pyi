import numpy as np

from .sbe import SbeBlock, SbeSchema

MESSAGE_LAYOUT: dict[str, int]
MESSAGE_ITEMSIZE: int

def udp_index(data: bytes | bytearray | memoryview) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None: ...

class Tables:
    keys: list[tuple[int] | tuple[int, str]]
    blocks: list[SbeBlock]
    ok: bool
    slot_of_tid: np.ndarray
    tpl: np.ndarray
    def __init__(self, schema: SbeSchema) -> None: ...

def walk(
    tables: Tables,
    buf: bytes | bytearray | memoryview,
    pkt_off: np.ndarray,
    pkt_len: np.ndarray,
    pkt_base: np.ndarray,
    pkt_flow: np.ndarray,
    nflows: int,
    hsz: int,
    *,
    arbitrate: bool,
    gap_raises: bool,
    strict: bool,
) -> tuple[np.ndarray, dict[int, np.ndarray], int, int, list[tuple[int, int]], np.ndarray] | None: ...
