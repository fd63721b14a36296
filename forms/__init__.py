"""The built-in form definitions (TOML) and the shared fragments any definition may ``use``;
installed as ``handover.builtin_forms`` so that they are found as package data, wherever
Handover is installed."""
