"""The measurement tests' input: each module's ``SPECS`` parsed from the mirror."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def data(
    request: pytest.FixtureRequest,
    mirror_series: Callable[[Iterable[str]], dict[str, pd.Series]],
) -> dict[str, pd.Series]:
    """Every series of the test module's ``SPECS`` (mirror specs such as ``"yahoo:IWM"``)."""
    return mirror_series(request.module.SPECS)
