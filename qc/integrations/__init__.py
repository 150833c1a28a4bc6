"""qc's rules inside other frameworks (spaCy components); beside the runtime, never imported by it."""
