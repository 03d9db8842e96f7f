"""Checkpoints: the state that resumes a run exactly, the best epoch's weights, and a warm
start from another run's checkpoint."""
