"""Where shared test code lives: data in tests/factories.py, the rest in tests/helpers.py,
fixtures in conftest. A test module imported by another runs its module-level code twice
over and ties unrelated files together, so no test module imports another one, and none
imports tests/conftest.py (pytest loads it; what other files need belongs in helpers)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
IMPORTS_A_TEST_MODULE = re.compile(
    r"^[ \t]*(?:(?:from|import)[ \t]+tests(?:\.e2e)?\.test_"
    r"|from[ \t]+tests(?:\.e2e)?[ \t]+import[ \t][^\n]*\btest_)",
    re.MULTILINE,
)
IMPORTS_THE_CONFTEST = re.compile(r"^[ \t]*(?:from|import)[ \t]+tests\.conftest\b", re.MULTILINE)


def offending_lines(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in sorted([*TESTS.glob("*.py"), *TESTS.glob("e2e/*.py")]):
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            source = text.splitlines()[line - 1].strip()
            found.append(f"{path.relative_to(TESTS.parent)}:{line}: {source}")
    return found


def test_no_test_module_imports_another():
    assert offending_lines(IMPORTS_A_TEST_MODULE) == []


def test_no_test_module_imports_the_conftest():
    assert offending_lines(IMPORTS_THE_CONFTEST) == []


def test_the_layout_check_sees_the_imports_it_forbids():
    """Guards the two checks above against a pattern that matches nothing."""
    samples = [
        "from tests.test_rooms import make_room",
        "    from tests.e2e.test_messages import send",
        "import tests.test_posts",
        "from tests import test_posts",
        "from tests import factories, test_posts",
    ]
    assert [s for s in samples if not IMPORTS_A_TEST_MODULE.search(s)] == []
    assert IMPORTS_THE_CONFTEST.search("from tests.conftest import link_from")
    allowed = [
        "from tests.factories import make_room",
        "from tests.helpers import post",
        "from tests import factories",
        "from tests.e2e.conftest import open_as",
    ]
    assert [s for s in allowed if IMPORTS_A_TEST_MODULE.search(s)] == []
