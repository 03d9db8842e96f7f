"""Runs of trials Tune lost: a driver killed outright after starting a trial, before Tune saved its state again,
leaves that trial's run open and unknown to the resumed Tune. The trial that trains the same configuration and seed
again adopts it (one run per configuration and seed, its epochs logged once); one nobody adopts is closed as
interrupted at the study's end, never left RUNNING."""

from __future__ import annotations

from collections.abc import Iterable

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from studies.tracking.writes import tags_of

REASON = ("lost: started after the study's last saved state, then the driver was killed; the resumed search did not "
          "propose its configuration and seed again")


class LostRuns:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], str] = {}  # (config label, seed) -> open run of a trial Tune lost

    def __bool__(self) -> bool:
        return bool(self._open)

    def find(self, runs: Iterable[Run], trial_ids: list[str]) -> None:
        """Among the study's trial `runs`, those still open of the resumed experiment whose trial is not among
        `trial_ids` (its saved state's). Tune's trial ids share a prefix per experiment: only that experiment's
        runs are considered."""
        prefixes, known = {t.split("_")[0] for t in trial_ids}, set(trial_ids)
        for run in runs:
            tags = run.data.tags
            trial_id = tags.get(T.TRIAL_ID, "")
            if (trial_id.split("_")[0] in prefixes and trial_id not in known
                    and tags.get(T.STATUS) in (statuses.RUNNING, statuses.INTERRUPTED)):
                self._open[(tags.get(T.CONFIG, ""), tags.get(T.SEED, ""))] = run.info.run_id

    def adopt(self, client: MlflowClient, trial_id: str, name: str, seed: int) -> str | None:
        """The lost run of configuration `name` and `seed`, now `trial_id`'s; None if there is none."""
        run_id = self._open.pop((name, str(seed)), None)
        if run_id is not None:
            client.set_tag(run_id, T.TRIAL_ID, trial_id)
        return run_id

    def close(self, client: MlflowClient) -> bool:
        """Mark the runs nobody adopted interrupted. Returns whether there were any."""
        lost = bool(self._open)
        for run_id in self._open.values():
            client.log_batch(run_id, tags=tags_of({T.STATUS: statuses.INTERRUPTED, T.STOP_REASON: REASON}))
            client.set_terminated(run_id, status=statuses.mlflow_status(statuses.INTERRUPTED))
        self._open.clear()
        return lost
