"""How a study file becomes the study that runs: the profile chosen, the user's settings, seeds,
protocol, rehearsal and pretraining applied, every value checked before anything starts. No Ray, no MLflow."""
