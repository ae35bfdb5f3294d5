"""Tricks: the FER toolbox as plain functions on batched tensors, plus a registry describing them.

Implementations: `preprocess` (the one uint8 -> model-input conversion), `normalize`, `augment`,
`mixing`, `losses`, `sampling`, `optim`, `schedule`, `early_stopping`, `tta`, `priors`, `kfold`.
`registry` names every trick, says which are on for a config and checks configs for conflicts.
"""
