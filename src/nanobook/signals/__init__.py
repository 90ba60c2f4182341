"""Learned short-horizon signals for market making.

Datasets of causal order-book features and forward labels
(:mod:`~nanobook.signals.dataset`), purged cross-validation
(:func:`nanobook.analytics.purged_kfold` / ``purged_walkforward``), a small
selective state-space model and honest baselines (torch is needed only to
train: the ``ml`` extra), ONNX export and onnxruntime inference (the
``inference`` extra), a Cython streaming step (:class:`SSMStep`) and a
market maker that uses the signal (:class:`SignalMarketMaker`).  See
``docs/signals.md``.  Importing this package imports neither torch nor
onnxruntime.
"""
from ._step import SSMStep
from .strategy import SignalMarketMaker
from .dataset import (
    FEATURE_NAMES, FORMATS, Dataset, FeatureConfig, FeatureState, Normalizer, build_dataset,
    forward_labels, load_stream,
)

__all__ = [
    "SSMStep", "SignalMarketMaker",
    "FEATURE_NAMES", "FORMATS", "Dataset", "FeatureConfig", "FeatureState", "Normalizer",
    "build_dataset", "forward_labels", "load_stream",
]
