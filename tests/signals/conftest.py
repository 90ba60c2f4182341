# Training tests run on one thread (the suite's budget is counted on one core);
# tests that need torch skip themselves when it is not installed.
try:
    import torch
except ImportError:  # pragma: no cover - depends on the install
    torch = None
else:
    torch.set_num_threads(1)
