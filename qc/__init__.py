"""qc: quality inspection (质检) of Chinese e-commerce customer-service chats."""

__version__ = "0.1.0"

# The compiled hot path, where a current build is beside the package (see qc.compiled).
from qc.compiled import install as _install_compiled  # noqa: E402

_install_compiled()
