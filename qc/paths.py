"""Where qc finds its bundled data (lexicons, models, scorecards, demo day).

From a checkout the data lives at the repository root; an installed wheel
carries the same folders inside the package under ``qc/_bundled``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """Folder holding ``lexicons/``, ``models/``, ``annotated_samples/`` and ``demo/``."""
    bundled = _PACKAGE / "_bundled"
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent


def lexicons_dir() -> Path:
    """Folder of the bundled lexicon files."""
    return data_root() / "lexicons"


def models_dir() -> Path:
    """Folder of the bundled model artifacts."""
    return data_root() / "models"


def samples_dir() -> Path:
    """Folder of the annotated samples."""
    return data_root() / "annotated_samples"


def demo_dir() -> Path:
    """Folder of the bundled demo day."""
    return data_root() / "demo"


def defaults_dir() -> Path:
    """Folder of packaged default configuration (the scorecard)."""
    return _PACKAGE / "defaults"
