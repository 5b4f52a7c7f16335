"""Tests of the toolkit's emulator part."""
