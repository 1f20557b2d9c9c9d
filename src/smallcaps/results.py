"""The one base every result object shares: text, JSON and Jupyter views from one ``summary()``.

Every measurement, backtest and robustness result is a frozen dataclass that subclasses
:class:`Result` and writes only what is its own: ``summary()`` (the lines a person reads) and,
when it has one, ``to_frame()`` (its main table). The base gives the rest, as ``arch`` and
``statsmodels`` results do:

- ``str(result)`` and ``print(result)`` show the summary;
- ``result._repr_html_()`` renders it in Jupyter (the summary, then the main table);
- ``result.to_dict()`` turns the dataclass fields into JSON-ready values. It is called only
  where JSON is written (``--json``, ``report --format json``, figure paths of a thesis): inside
  the program results stay typed.

This module sits at the bottom of the layers (it imports nothing of smallcaps but the JSON
helper), so analytics, backtests, the thesis checker and the report can all use it.
"""

from __future__ import annotations

import html
from dataclasses import fields, is_dataclass
from typing import Any

import pandas as pd

from smallcaps.analytics._jsonready import jsonready

HTML_MAX_ROWS = 60  # rows of the main table shown in a notebook


class Result:
    """Base of every result: ``summary()`` in, ``__str__``, ``_repr_html_`` and ``to_dict`` out.

    Subclasses are dataclasses (usually ``frozen=True, slots=True, eq=False``) and override
    :meth:`summary`; those with a main table override :meth:`to_frame`. Fields that should not
    appear in :meth:`to_dict` are listed in ``_private`` (a class attribute).
    """

    __slots__ = ()
    _private: tuple[str, ...] = ()

    def summary(self) -> str:
        """The lines a person reads; every subclass writes its own."""
        raise NotImplementedError(f"{type(self).__name__} has no summary()")

    def to_frame(self) -> pd.DataFrame:
        """The main table of the result (empty when it has none)."""
        return pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """Every public dataclass field as a JSON-ready value (NaN and NaT become None)."""
        if not is_dataclass(self):
            return {}
        return {
            f.name: jsonready(getattr(self, f.name))
            for f in fields(self)
            if not f.name.startswith("_") and f.name not in self._private
        }

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The summary as preformatted text, then the main table (Jupyter calls this)."""
        body = f"<pre>{html.escape(self.summary())}</pre>"
        try:
            table = self.to_frame()
        except Exception:  # a notebook view must never raise
            return body
        if table.empty:
            return body
        return body + table.to_html(max_rows=HTML_MAX_ROWS, escape=True)
