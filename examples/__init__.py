"""Example services that payharness judges over HTTP (not part of the installed package)."""
