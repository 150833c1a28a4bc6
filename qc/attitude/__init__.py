"""The attitude rule: features of an agent message in context, the model file, the decision."""
