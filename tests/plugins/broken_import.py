"""Test plugin: fails while being imported."""

raise RuntimeError("this plugin is broken at import")
