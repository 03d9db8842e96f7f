"""Optimizers, learning-rate schedules, mixed precision and the optimizer step, loss weighting,
and the LR range test."""
