"""Fixtures shared by the test files."""
import pytest

import models  # noqa: F401  (registers the course models; an installed checkout finds them by its entry point)
import tinygrad_ift as tg


@pytest.fixture(params=[1, 3])
def threads(request):
    """Run the test with that many threads for the sliced CPU passes, then go back to the count set before."""
    before = tg.get_num_threads()
    tg.set_num_threads(request.param)
    yield request.param
    tg.set_num_threads(before)
