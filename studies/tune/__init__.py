"""The Ray Tune adapter: the cluster, the tuner, trial events and errors, storage, and Tune's searcher and scheduler
plug-ins (the Optuna searcher told each trial's true ending, replicates told as one trial, MO-ASHA). The only room of
`studies` that imports Ray."""
