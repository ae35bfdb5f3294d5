"""Studies: ablations, grids and random sweeps over a base config, repeated over seeds.

`spec` (the study JSON), `switches` (each trick's off/on values), `plan` (the runs a spec
expands to, checked before anything trains), `studydir` (the study directory of ordinary
run directories), `local` and `ray_backend` (who trains the runs) and `results` (the
per-variant table, with the statistics of `fer_engine.scoring.stats`).
"""
