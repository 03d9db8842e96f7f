"""Read hpstudy studies back from MLflow and report on them: multi-seed tables with paired statistics, compute
overhead, Pareto fronts and plots. Imports only mlflow, pandas, numpy, scipy, matplotlib (plots, lazily) and schema.
"""

from analysis.formats import format_latex, format_markdown, format_overview_markdown
from analysis.load import AnalysisError, find_study_run, load_history, load_trials, metric_table_of
from analysis.overhead import format_overhead_markdown, overhead_table
from analysis.pareto import pareto_front, pareto_table
from analysis.report_content import Report, build_report
from analysis.stats import mean_ci, paired_comparison, variance_ratio
from analysis.tables import multiseed_table, swept_params

__all__ = [
    "AnalysisError", "Report", "build_report", "find_study_run", "format_latex", "format_markdown",
    "format_overhead_markdown", "format_overview_markdown", "load_history", "load_trials", "mean_ci",
    "metric_table_of", "multiseed_table", "overhead_table", "paired_comparison", "pareto_front", "pareto_table",
    "swept_params", "variance_ratio",
]
