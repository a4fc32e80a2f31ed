"""Warmline's application core: settings, models, the sync pipeline, the CLI."""
