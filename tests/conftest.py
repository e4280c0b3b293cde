import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def refresh() -> bool:
    return bool(os.environ.get("DOCKREWRITE_REFRESH"))
