"""MLflow, written by the driver only: the study's parent run and its trials' nested runs, the
logged config, provenance, the summary and the closing report."""
