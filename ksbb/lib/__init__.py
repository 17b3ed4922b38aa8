"""Helpers any app may use. This package imports no app of the project (a test reads the imports)."""
