import numpy as np

DTYPES: dict[str, np.dtype]
NAMES: dict[str, str]
WIRE_LENGTHS: dict[str, int]
HEADER: list[tuple[str, int, str]]
MESSAGES: dict[str, tuple[str, list[tuple[str, int, str]]]]

def decode(
    buf: bytes | bytearray | memoryview | np.ndarray,
    strict: bool = ...,
    final: bool = ...,
    offset_base: int = ...,
    index_base: int = ...,
    generic: bool = ...,
) -> tuple[dict[str, np.ndarray], int, int, int]: ...
def reference_event_array(
    buf: bytes | bytearray | memoryview | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[bytes]]: ...
def pair(labels: list[str], label_id: np.ndarray, items: list[object]) -> list[tuple[str, object]]: ...
def mold_split(
    buf: bytes | bytearray | memoryview | np.ndarray, off: np.ndarray, ln: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None: ...
