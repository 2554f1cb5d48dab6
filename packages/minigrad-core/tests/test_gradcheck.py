"""gradcheck itself: it passes correct gradients and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import GradcheckError, Tensor, gradcheck, where


def test_passes_correct_gradients_and_accepts_float32_and_constants():
    x = Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    assert gradcheck(lambda a, k: (a * k).tanh(), x, 3.0)
    assert x.dtype == np.float32  # the user's tensor is untouched
    np.testing.assert_array_equal(x.grad, 0.0)  # no gradient left behind


def test_reports_the_worst_element():
    # Wrong on purpose at one element: there the first factor of x * x is treated as
    # a constant, so the analytic gradient is x instead of 2x (the value is unchanged).
    mask = np.array([[False, False], [True, False]])
    x = Tensor([[0.1, -3.0], [1.5, 0.5]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: a * a + where(mask, a.detach() * a - a * a, 0.0), x)
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.input_index == 0
    assert err.element_index == (1, 0)
    assert err.numeric == pytest.approx(2 * err.analytic, rel=1e-5)
    message = str(err)
    assert "input 0, element (1, 0)" in message
    assert "1 of 4 gradient elements disagree" in message


def test_checks_only_inputs_that_require_grad_and_names_the_right_one():
    a = Tensor([1.0, 2.0], requires_grad=False)
    b = Tensor([3.0, 4.0])
    c = Tensor([0.5, 0.25])
    assert gradcheck(lambda a, b, c: a * b + c, a, b, c)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b, c: a * b + c * c.detach(), a, b, c)
    assert info.value.input_index == 2


def test_a_missing_gradient_is_caught():
    x = Tensor([1.0, 2.0])
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: Tensor(a.data * 2.0, requires_grad=False), x)


def test_nan_gradients_are_caught():
    x = Tensor([1.0, 2.0])
    with pytest.raises(GradcheckError, match="nan"):
        gradcheck(lambda a: a * Tensor([np.nan, 1.0], requires_grad=False).detach(), x)


def test_tolerances_are_used():
    x = Tensor([1.0, -2.0])
    # the analytic gradient is 1.96 x instead of 2 x: a 2% error, which the default
    # rtol=1e-3 rejects and rtol=0.05 accepts
    fn = lambda a: a * a * 0.96 + a.detach() * a * 0.04  # noqa: E731
    with pytest.raises(GradcheckError):
        gradcheck(fn, x)
    assert gradcheck(fn, x, rtol=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, Tensor([1.0], requires_grad=False))
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda a: a.data, Tensor([1.0]))
