"""Training and evaluation of the attitude model: beside the runtime, never imported by it."""
