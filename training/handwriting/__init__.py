"""Offline training of the handwriting (writer-identification) model for slip scoring."""
