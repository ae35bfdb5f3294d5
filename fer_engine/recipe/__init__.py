"""The training recipe: how faces become a trained model, as plain functions on batched tensors.

Parts: `preprocess` (the one uint8 -> model-input conversion), `normalize`, `augment`, `mixing`,
`losses`, `sampling`, `optim`, `schedule`, `early_stopping`, `tta`, `priors`, `folds` (k-fold
splits). `tricks` is the catalogue: it names every trick FER competitors use, says which are on
for a config and checks configs for conflicts.
"""
