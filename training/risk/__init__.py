"""Offline training of the bet risk model (simulator, trainer). Never imported at runtime."""
