"""GUI-free engine of fer-studio."""
