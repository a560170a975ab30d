"""Evaluation against physics and against MediaPipe; used by tests and bench/evaluate.py."""
