"""The stand-in's `cupyx.scipy.special.erf`, a device ufunc (SciPy's erf on the NumPy array behind it)."""
import math

import numpy as _np

from cupy._standin import ufunc as _ufunc

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - scipy is a test dependency
    _erf = _np.frompyfunc(math.erf, 1, 1)

erf = _ufunc("erf", _erf)
