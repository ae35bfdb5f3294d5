"""Reusable widgets, one per module; they show models and emit signals, never compute."""
