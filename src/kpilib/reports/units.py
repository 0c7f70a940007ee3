"""Numbers as a reader sees them: every value with its unit, money with its currency.

``fmt(value, unit, currency)``: rates ``91.2%`` (two decimals near 100%: ``99.56%``), hours
``12.3 h``, days ``4.5 d``, money ``$7.89`` (``7.89 EUR`` for a currency without a symbol
here), annual turns ``8.3 turns/yr``, counts as integers when whole (``6,183 units``), other
units after the number (``1.25 shipments/order``). ``fmt_change`` gives a signed change
(``+4.5 pp`` for rates). ``currency_of(ds)`` reads the currency from the data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RATE_UNITS = ("fraction", "rate")
MONEY_UNITS = ("currency", "currency/order")
COUNT_WORDS = {"units": "units", "lines": "lines", "count": "", "touches": "touches",
               "orders": "orders"}
SHORT = {"hours": "h", "days": "d", "turns/year": "turns/yr", "turns": "turns/period",
         "MADs": "MADs"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "JPY": "¥"}
STATISTICS = {"value": "", "p50": "median", "p90": "p90"}


def currency_of(ds: Any) -> str:
    """The data's currency code (most frequent in orders, else fulfilment costs), else ``""``."""
    for table in ("orders", "fulfillment_costs"):
        frame = getattr(ds, table, None)
        if frame is not None and "currency" in frame and frame["currency"].notna().any():
            return str(frame["currency"].mode().iloc[0])
    return ""


def money(v: float, currency: str, digits: int = 2) -> str:
    sign = "-" if v < 0 else ""
    sym = SYMBOLS.get(currency)
    if sym:
        return f"{sign}{sym}{abs(v):,.{digits}f}"
    return f"{sign}{abs(v):,.{digits}f} {currency}".rstrip()


def _number(v: float) -> str:
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def fmt(value: Any, unit: Any, currency: str = "") -> str:
    """``value`` with its unit (see module docstring); ``n/a`` when missing."""
    if value is None or pd.isna(value):
        return "n/a"
    v, unit = float(value), str(unit)
    if unit in RATE_UNITS:
        return f"{v:.2%}" if 0.995 <= abs(v) < 1 else f"{v:.1%}"
    if unit in MONEY_UNITS:
        return money(v, currency) if currency else f"{v:,.2f} (currency unknown)"
    if unit in ("hours", "days"):
        return f"{v:,.1f} {SHORT[unit]}"
    if unit in COUNT_WORDS:
        return f"{_number(v)} {COUNT_WORDS[unit]}".rstrip()
    if unit == "ratio":
        return f"{v:.2f}×"
    return f"{_number(v)} {SHORT.get(unit, unit)}"


def fmt_change(change: Any, unit: Any, currency: str = "") -> str:
    """Signed change: percentage points for rates, else in the value's unit."""
    if change is None or pd.isna(change):
        return "n/a"
    c, unit = float(change), str(unit)
    if unit in RATE_UNITS:
        return pp(c)
    sign = "+" if c >= 0 else "−"
    return sign + fmt(abs(c), unit, currency)


def pp(change: float) -> str:
    """A signed rate change in percentage points, two decimals below 0.1 pp (``−0.04 pp``)."""
    v = float(change) * 100
    text = f"{abs(v):.2f}" if abs(v) < 0.095 else f"{abs(v):.1f}"
    if float(text) == 0:
        return "±0.0 pp"
    return ("+" if v > 0 else "−") + text + " pp"


def statistic(metric: Any, unit: Any) -> str:
    """What a figure is when it is not the KPI's own value: ``p90`` or ``median``, else ``""``."""
    return STATISTICS.get(str(metric), str(metric))
