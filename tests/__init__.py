"""Tests of ncp-kms-toolkit."""
