"""The subtree range is exactly the set of paths that start with the org's path."""

from hypothesis import given
from hypothesis import strategies as st

from orgs.models import Org
from orgs.selectors import subtree_range

step = st.text(alphabet=Org.alphabet, min_size=Org.steplen, max_size=Org.steplen)
paths = st.lists(step, min_size=1, max_size=8).map("".join)


@given(paths, paths)
def test_range_holds_exactly_the_descendants(path, other):
    low, high = subtree_range(path)
    assert (low <= other <= high) == other.startswith(path)
