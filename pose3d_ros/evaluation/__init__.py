"""Evaluation: recall on labelled photographs and composites, physics, MediaPipe agreement."""
