"""Read hpstudy studies back from MLflow and summarise them: trial frames, multi-seed tables.

Imports only mlflow, pandas, numpy and scipy, so it runs anywhere the MLflow store can be read.
"""

from analysis.load import AnalysisError, find_study_run, load_history, load_trials
from analysis.tables import format_markdown, multiseed_table

__all__ = ["AnalysisError", "find_study_run", "format_markdown", "load_history", "load_trials", "multiseed_table"]
