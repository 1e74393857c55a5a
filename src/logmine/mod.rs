//! Log lines: timestamps, levels and templates.
