"""The contract hpstudy's writers and readers share: MLflow tag keys, statuses, metric keys and run-specific params.

Standard library only, so the trainer, the study driver and the analysis all import it without pulling in each other.
"""
