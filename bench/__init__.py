"""Benchmarks: scripts that measure the LMS on a real server and database (see README.md)."""
