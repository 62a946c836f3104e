"""Keyword spotting on a long recording: features over a sliding window, an int8 model, post-processing."""
