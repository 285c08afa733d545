"""Every compat/cases/*.txt script, run against redis-server and respd: raw replies must
be byte-identical (RESP2 and, where a case says HELLO 3, RESP3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.harness import compare, parse_case

CASES = sorted((Path(__file__).parent / "cases").glob("*.txt"))


@pytest.mark.compat
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case(case: Path, redis_ref, respd) -> None:
    sections = parse_case(case.read_text(), str(case))
    compared, diffs = compare(redis_ref.port, respd.port, sections)
    assert compared > 0, f"{case.name} compared nothing"
    assert not diffs, f"{len(diffs)} of {compared} replies differ:\n" + "\n".join(diffs)
