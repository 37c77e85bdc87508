"""Panel components of the Data versions panel (version list, preview, diff, quality)."""
