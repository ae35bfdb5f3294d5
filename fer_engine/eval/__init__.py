"""Evaluation and analysis of finished runs and ensembles, on plain arrays (no Qt).

`source` (a run or an ensemble, opened by `open_source`), `store` (predictions once per run,
dataset, split and TTA, kept in the run directory; `fer_engine.scoring` holds the arrays and
metrics), `embed` (PCA / t-SNE), `ensemble` (soft / hard voting of runs), `predictor` (faces
of any size -> probabilities, for the live page), `analysis` (the bundle the GUI pages open),
`inspector` (Grad-CAM and dropped files for the image inspector), `export` (the registry of
analysis exports: CSV/JSON, PNG/SVG; overlay folders), `report` (text tables), `cam` (Grad-CAM).
"""
