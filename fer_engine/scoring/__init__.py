"""What a model's predictions are and how they score, below training and evaluation alike.

`predictions` (the `Predictions` arrays, stored as .npz), `metrics` (equal to scikit-learn's),
`stats` (intervals and paired tests), `figures` (the confusion-matrix figure). The training
loop scores its validation and test splits with these; `eval` builds the analyses on them.
"""
