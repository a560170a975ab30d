"""dds tests."""
