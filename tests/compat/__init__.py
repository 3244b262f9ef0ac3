"""Compatibility with swarms: its arguments, streaming API, examples, tests, and the hosted API's streams."""
