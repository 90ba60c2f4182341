"""Type stubs for the ChaCha20 / ziggurat stream of the Monte-Carlo scenarios."""
import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

@disjoint_base
class ChaCha20Rng:
    def __init__(self, seed: int) -> None: ...
    def u64(self) -> int: ...
    def normals(self, n: int) -> npt.NDArray[np.float64]: ...
