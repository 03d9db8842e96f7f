"""Every MLflow tag key hpstudy writes, and the values of the ones that take a fixed set.

The study driver writes them (studies.tracking.tracker), the analysis reads them (analysis.load); both import them
from here.
"""

from __future__ import annotations

PREFIX = "hpstudy."

# On every run
ROLE = "hpstudy.role"  # ROLE_STUDY (the parent run of one study invocation) | ROLE_TRIAL (one nested run per trial)
STUDY = "hpstudy.study"  # the study's name, as run: `python -m studies.run NAME`
STATUS = "hpstudy.status"  # hpstudy.schema.statuses: how the run ended (or "running")
ROLE_STUDY, ROLE_TRIAL = "study", "trial"

# On the parent (study) run
PROFILE = "hpstudy.profile"  # local | full | smoke
GIT_SHA = "hpstudy.git_sha"  # HEAD of the checkout, "-dirty" with uncommitted changes
STUDY_FILE = "hpstudy.study_file"  # a study file of one's own: its absolute path; absent for a catalogue study
STUDY_GIT_SHA = "hpstudy.study_git_sha"  # HEAD of the git checkout holding that file ("-dirty", or "unknown")
COMMAND = "hpstudy.command"  # the command line that started the study
PROTOCOL = "hpstudy.protocol"  # one sentence: what the study selects on, how it uses the test split
NOTES = "hpstudy.notes"  # what a --smoke rehearsal resolved differently from the profile it rehearses
BASELINE = "hpstudy.baseline"  # the config the report compares against (sweeps only)
REPLICATION = "hpstudy.replication"  # sequential replication's policy, "minimum=3, maximum=10, ..."; absent without
DECISIONS = "hpstudy.decisions"  # JSON {config: {verdict, n, mean, low, high}}: each comparison's end (sequential)
METRIC_SPECS = "hpstudy.metric_specs"  # JSON [[name, direction, unit, meaning], ...]: the task's own metrics
VERSION_PREFIX = "hpstudy.version."  # + package name: its installed version
SEED_NOTE = "hpstudy.seed_note"  # the researchers' note the study reproduces ("001"); absent for other studies
EXPERIMENT = "hpstudy.experiment"  # which of the note's experiments ("Exp 2"); absent when it names none
DESCRIPTION = "hpstudy.description"  # the study file's DESCRIPTION, as `--list` shows it
FAILED_TRIALS = "hpstudy.failed_trials"  # "k of n", only when some trial failed
BEST_CONFIG = "hpstudy.best_config"  # the best trial's config label (by the study's metric and mode)
BEST_TRIAL_ID = "hpstudy.best_trial_id"
BEST_TRIAL_RUN_ID = "hpstudy.best_trial_run_id"
BEST_MODEL = "hpstudy.best_model"  # where the best trial's weights are: "runs:/<parent run id>/best_model", or why not
BEST_MODEL_TRIAL_ID = "hpstudy.best_model.trial_id"  # the trial whose weights best_model holds
BEST_MODEL_RUN_ID = "hpstudy.best_model.run_id"  # ... its run
BEST_MODEL_EPOCH = "hpstudy.best_model.epoch"  # ... the epochs it had trained (its newest checkpoint's)

# On a trial run
TRIAL_ID = "hpstudy.trial_id"  # Ray Tune's trial id: a resumed or retried trial continues the run that has it
SEED = "hpstudy.seed"
PHASE = "hpstudy.phase"  # "confirm": a search's confirmation trial (studies.cli.confirm); absent for its own trials
CONFIRM = "confirm"
DECISION = "hpstudy.decision"  # sequential replication: its configuration's verdict against the baseline
DECISION_N = "hpstudy.decision_n"  # the pairs of seeds that verdict took
CONFIG = "hpstudy.config_name"  # a variant's name, or "k=v, ..." of a sampled configuration (its label)
STOP_REASON = "hpstudy.stop_reason"  # why it stopped early or failed; absent when it simply completed
STOP_EPOCH = "hpstudy.stop_epoch"  # the last epoch it reported
CONFIG_CHANGED = "hpstudy.config_changed"  # "k=v, ..." an out-of-memory retry changed (config.yaml has them)
RETRIES = "hpstudy.retries"  # times Tune restarted it from its last checkpoint; absent when never
BEST = "hpstudy.best"  # BEST_VALUE on the best trial of its study invocation; absent on the others
BEST_VALUE = "true"

# MLflow's own tags hpstudy sets: the UI nests a trial under its study run by the first, names runs by the second.
PARENT_RUN_ID = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
