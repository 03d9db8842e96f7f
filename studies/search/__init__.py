"""How a study searches, as pure rules on plain numbers (no Ray, no Optuna): how a finished trial is told to the
searcher (`endings`) and multi-objective successive halving (`mo_rungs`). Their Ray Tune adapters are in
`studies.tune`."""
