"""Running an inspection: the one :class:`~qc.run.inspector.Inspector` contract and its executors."""
