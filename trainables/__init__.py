"""The trainer: a mixed-precision PyTorch training run described by a frozen `TrainConfig`; it imports no Ray."""
