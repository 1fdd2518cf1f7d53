#!/usr/bin/env python3
"""Cross-check data/cn-2025-2026.toml against the PyPI package `chinesecalendar`.

Why: the embedded calendar is typed in by hand from the State Council notices;
`chinesecalendar` is an independent, widely used transcription of the same
notices. Two independent transcriptions that agree date by date are our check.

Usage (from the crate directory):

    pip install chinesecalendar==1.11.0
    python3 scripts/check_cn_data.py check   # compare the TOML with the package
    python3 scripts/check_cn_data.py dump    # rewrite tests/data/chinesecalendar-1.11.0.txt

`dump` writes a snapshot of the package's view of every date of 2025-2026 so that
`cargo test` (tests/china_data.rs) repeats the comparison without Python.
Snapshot line format, tab separated:

    date  work|off  normal|weekend|holiday|makeup  english-name-or-dash
"""

import datetime as dt
import pathlib
import sys
import tomllib

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

CRATE = pathlib.Path(__file__).resolve().parent.parent
DATA = CRATE / "data" / "cn-2025-2026.toml"
SNAPSHOT = CRATE / "tests" / "data" / f"chinesecalendar-{chinese_calendar.__version__}.txt"
YEARS = (2025, 2026)


def days():
    d = dt.date(YEARS[0], 1, 1)
    while d.year <= YEARS[-1]:
        yield d
        d += dt.timedelta(days=1)


def package_view():
    """date -> (work|off, kind, english name or '-') according to chinesecalendar."""
    view = {}
    for d in days():
        if d in holidays:
            view[d] = ("off", "holiday", holidays[d])
        elif d in workdays:
            view[d] = ("work", "makeup", workdays[d])
        elif d.weekday() >= 5:
            view[d] = ("off", "weekend", "-")
        else:
            view[d] = ("work", "normal", "-")
        assert chinese_calendar.is_workday(d) == (view[d][0] == "work"), d
    return view


def as_date(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def english(name):
    """'国庆节 National Day' -> 'national day' (names are '<Chinese> <English>')."""
    return name.split(" ", 1)[1].lower()


def crate_view():
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    view = {}
    for h in data.get("holidays", []):
        start = as_date(h["start"])
        end = as_date(h.get("end", h["start"]))
        d = start
        while d <= end:
            assert d not in view, f"duplicate date {d}"
            view[d] = ("off", "holiday", english(h["name"]))
            d += dt.timedelta(days=1)
    for m in data.get("makeup_days", []):
        d = as_date(m["date"])
        assert d not in view, f"duplicate date {d}"
        # '国庆节补班 National Day make-up working day' -> 'national day'
        view[d] = ("work", "makeup", english(m["name"]).removesuffix(" make-up working day"))
    for d in days():
        if d not in view:
            view[d] = ("off", "weekend", "-") if d.weekday() >= 5 else ("work", "normal", "-")
    return view


def check():
    pkg, ours = package_view(), crate_view()
    bad = 0
    for d in days():
        p = (pkg[d][0], pkg[d][1], pkg[d][2].lower())
        if p != ours[d]:
            bad += 1
            print(f"MISMATCH {d}: chinesecalendar={p} crate={ours[d]}")
    total = len(list(days()))
    print(f"{total - bad} passed, {bad} failed")
    return 1 if bad else 0


def dump():
    lines = [f"{d.isoformat()}\t{w}\t{k}\t{n}" for d, (w, k, n) in sorted(package_view().items())]
    SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT} ({len(lines)} dates)")
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    sys.exit({"check": check, "dump": dump}[cmd]())
