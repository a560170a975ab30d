"""Evaluation: physics, MediaPipe agreement, synthetic clips and crowds, 3D pose errors."""
