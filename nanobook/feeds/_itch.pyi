import numpy as np

DTYPES: dict[str, np.dtype]
NAMES: dict[str, str]
WIRE_LENGTHS: dict[str, int]

def decode(
    buf: bytes | bytearray | memoryview,
    strict: bool = ...,
    final: bool = ...,
    offset_base: int = ...,
    index_base: int = ...,
) -> tuple[dict[str, np.ndarray], int, int, int]: ...
def reference_events(
    buf: bytes | bytearray | memoryview,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...
