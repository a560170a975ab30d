"""package tests."""
