"""Inputs that used to run to the end with exit 0 and a wrong number: each
is now a clear error, or a warning where a user may mean it."""
import pytest
import torch

from mmlt.core import GRWKLLoss, grw_weights

LT_DIGITS = [440, 300, 200, 100, 50, 30, 20, 10, 5, 4]


@pytest.mark.parametrize('rho, smallest', [(20, '1.47e-40'),
                                           (50, '8.52e-102'),
                                           (200, '5.27e-408')])
def test_rho_that_underflows_float32_is_refused(rho, smallest):
    match = (rf'rho={rho}.0 is too large .* range from {smallest} to '
             r'(9.89e\+0|1e\+1)')
    with pytest.raises(ValueError, match=match):
        grw_weights(LT_DIGITS, rho)
    with pytest.raises(ValueError, match=match):  # when the loss is built
        GRWKLLoss(class_counts=LT_DIGITS, rho=rho)
    # the paper's range is fine, and so is a large but representable rho
    for ok in (0.2, 1.5, 10):
        assert (grw_weights(LT_DIGITS, ok) > 0).all()
