"""Tests of the toolkit's notebook part."""
