"""Tests of the toolkit's bulk part."""
