"""The Ray Tune adapter: the cluster, the tuner, trial events and errors, storage, packing. With
`studies.search`, the only room of `studies` that imports Ray."""
