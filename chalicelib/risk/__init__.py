"""Real-time bet risk model: features shared with training, and the ONNX scorer."""
