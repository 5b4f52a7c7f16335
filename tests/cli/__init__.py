"""Tests of the toolkit's cli part."""
