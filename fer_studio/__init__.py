"""Qt app of fer-studio, on top of fer_engine."""
