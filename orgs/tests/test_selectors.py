"""The subtree range is exactly the set of paths that start with the org's path."""

from hypothesis import given
from hypothesis import strategies as st

from orgs.models import Org
from orgs.selectors import next_path

step = st.text(alphabet=Org.alphabet, min_size=Org.steplen, max_size=Org.steplen)
paths = st.lists(step, min_size=1, max_size=8).map("".join)


@given(paths, paths)
def test_range_holds_exactly_the_descendants(path, other):
    upper = next_path(path)
    inside = path <= other and (upper is None or other < upper)
    assert inside == other.startswith(path)


def test_next_path_carries():
    assert next_path("00010007") == "00010008"
    assert next_path("0001000Z") == "00010010"
    assert next_path("ZZZZ") is None
