"""Optimizers with PyTorch's update rules: `SGD`, `Adam`, `AdamW`, on the base `Optimizer`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from minigrad import Tensor
from minigrad.nn._validation import is_step

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]


def _check_number(
    name: str, value: object, *, low: float = 0.0, below: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if number < low or (below is not None and number >= below):
        bounds = f">= {low}" if below is None else f"in [{low}, {below})"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return number


class Optimizer:
    """Base class of the optimizers: holds the parameters, step count and state buffers.

    A subclass lists its hyperparameters in ``hyperparameter_names`` (plain attributes,
    which may be changed between steps, e.g. ``opt.lr = 0.01``) and its per-parameter
    buffers in ``buffer_names`` (``self.state[name][i]`` is the buffer of parameter
    ``i``, or ``None`` before it exists), and implements `step`. `state_dict` and
    `load_state_dict` then need no further code.

    Parameters
    ----------
    params : iterable of Tensor
        The tensors to update, usually ``model.parameters()``. Their ``data`` arrays are
        updated in place.

    Raises
    ------
    TypeError
        If ``params`` holds something other than tensors.
    ValueError
        If ``params`` is empty or holds a tensor twice.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import Optimizer
    >>> class SignSGD(Optimizer):
    ...     hyperparameter_names = ("lr",)
    ...     def __init__(self, params, lr=0.01):
    ...         super().__init__(params)
    ...         self.lr = lr
    ...     def step(self):
    ...         self.step_count += 1
    ...         for p in self.params:
    ...             p.data -= self.lr * np.sign(p.grad)
    >>> w = Tensor([1.0, -1.0])
    >>> opt = SignSGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    array([ 0.5, -0.5])
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = ()
    buffer_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Iterable[Tensor]) -> None:
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            hint = "; pass model.parameters()" if hasattr(params, "parameters") else ""
            raise TypeError(
                f"params must be an iterable of Tensors, got {type(params).__name__}{hint}"
            )
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("params is empty: the optimizer has nothing to update")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"params[{i}] is a {type(p).__name__}, not a minigrad Tensor")
            if id(p) in seen:
                raise ValueError(
                    f"params[{i}] appears more than once; each tensor must be listed once "
                    "or it would be updated twice per step"
                )
            seen.add(id(p))
        self.step_count = 0
        self.state: dict[str, list[np.ndarray | None]] = {
            name: [None] * len(self.params) for name in self.buffer_names
        }

    def step(self) -> None:
        """Update every parameter from its gradient; subclasses implement it.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD
        >>> w = Tensor([1.0]); (w * 3.0).sum().backward()
        >>> opt = SGD([w], lr=0.1); opt.step(); w.data
        array([0.7])
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to zeros.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD
        >>> w = Tensor([1.0]); (w * 3.0).sum().backward()
        >>> opt = SGD([w], lr=0.1); opt.zero_grad(); w.grad
        array([0.])
        """
        for p in self.params:
            p.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        """Return the step count, hyperparameters and copies of the state buffers.

        The result is ``{"type": name, "step": int, "hyperparameters": {...},
        "buffers": {name: [array or None per parameter]}}``; `save_checkpoint`
        writes it to a file without pickling.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Adam
        >>> state = Adam([Tensor([1.0, 2.0])], lr=0.01).state_dict()
        >>> state["type"], state["step"], state["hyperparameters"]["lr"]
        ('Adam', 0, 0.01)
        >>> sorted(state["buffers"])
        ['exp_avg', 'exp_avg_sq']
        """
        return {
            "type": type(self).__name__,
            "step": self.step_count,
            "hyperparameters": {
                name: _to_json(getattr(self, name)) for name in self.hyperparameter_names
            },
            "buffers": {
                name: [None if b is None else b.copy() for b in buffers]
                for name, buffers in self.state.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned, so training continues exactly.

        The optimizer must be of the same type and hold parameters of the same shapes
        in the same order; otherwise `ValueError` says what differs and nothing is
        changed. Hyperparameters are restored too, as in PyTorch.

        Raises
        ------
        ValueError
            If the state does not fit this optimizer.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Adam
        >>> w = Tensor([1.0]); opt = Adam([w]); (w * w).sum().backward(); opt.step()
        >>> fresh = Adam([Tensor([1.0])]); fresh.load_state_dict(opt.state_dict())
        >>> fresh.step_count
        1
        """
        name = type(self).__name__
        try:
            kind = state["type"]
            step = state["step"]
            hyper = dict(state["hyperparameters"])
            buffers = dict(state["buffers"])
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"not an optimizer state dict ({exc!r}); pass what {name}.state_dict() returned"
            ) from None
        if kind != name:
            raise ValueError(f"the state is of a {kind} optimizer and cannot be loaded into {name}")
        if not is_step(step):
            raise ValueError(
                f"the state's step must be an integer from 0 to 2**63 - 1, got {step!r}"
            )
        if set(hyper) != set(self.hyperparameter_names):
            raise ValueError(
                f"the state's hyperparameters {sorted(hyper)} do not match {name}'s "
                f"{sorted(self.hyperparameter_names)}"
            )
        if set(buffers) != set(self.buffer_names):
            raise ValueError(
                f"the state's buffers {sorted(buffers)} do not match {name}'s "
                f"{sorted(self.buffer_names)}"
            )
        restored: dict[str, list[np.ndarray | None]] = {}
        for buffer_name in self.buffer_names:
            values = list(buffers[buffer_name])
            if len(values) != len(self.params):
                raise ValueError(
                    f"the state holds {buffer_name!r} for {len(values)} parameters, "
                    f"this optimizer has {len(self.params)}"
                )
            restored[buffer_name] = []
            for i, (value, p) in enumerate(zip(values, self.params, strict=True)):
                if value is None:
                    restored[buffer_name].append(None)
                    continue
                array = np.asarray(value)
                if array.shape != p.data.shape:
                    raise ValueError(
                        f"the state's {buffer_name}[{i}] has shape {array.shape}, "
                        f"parameter {i} has shape {p.data.shape}"
                    )
                restored[buffer_name].append(array.astype(p.data.dtype, copy=True))
        # Validate the hyperparameters through the constructor's own checks before
        # changing anything.
        saved = {n: getattr(self, n) for n in self.hyperparameter_names}
        try:
            self._set_hyperparameters(hyper)
        except (TypeError, ValueError):
            self._set_hyperparameters(saved)
            raise
        self.step_count = int(step)
        self.state = restored

    def _set_hyperparameters(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.hyperparameter_names)
        return f"{type(self).__name__}({len(self.params)} tensors, {args})"


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, as `torch.optim.SGD` computes it.

    Each step, with ``g`` the gradient::

        g = g + weight_decay * p                                  (if weight_decay)
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf               (if momentum)
        p = p - lr * g

    Parameters
    ----------
    params : iterable of Tensor
        The tensors to update (``model.parameters()``).
    lr : float
        Learning rate.
    momentum : float, default 0
        Momentum factor.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    dampening : float, default 0
        Dampening of the momentum.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import SGD
    >>> w = Tensor([1.0, 2.0])
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w.data.round(4)
    array([0.46, 0.92])
    """

    hyperparameter_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    buffer_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params)
        self._set_hyperparameters(
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
            }
        )

    def _set_hyperparameters(self, values: Mapping[str, Any]) -> None:
        lr = _check_number("lr", values["lr"])
        momentum = _check_number("momentum", values["momentum"])
        dampening = _check_number("dampening", values["dampening"])
        weight_decay = _check_number("weight_decay", values["weight_decay"])
        nesterov = values["nesterov"]
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening == 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, bool(nesterov)

    def step(self) -> None:
        """Apply one update to every parameter, in place (see the class docstring).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD
        >>> w = Tensor([1.0]); (w * 3.0).sum().backward()
        >>> SGD([w], lr=0.1).step(); w.data
        array([0.7])
        """
        self.step_count += 1
        lr, momentum, wd = self.lr, self.momentum, self.weight_decay
        buffers = self.state["momentum_buffer"]
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            if momentum:
                buf = buffers[i]
                if buf is None:
                    buf = buffers[i] = np.array(g, copy=True)
                else:
                    buf *= momentum
                    buf += (1.0 - self.dampening) * g
                g = g + momentum * buf if self.nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam, as `torch.optim.Adam` computes it (bias-corrected, L2 weight decay).

    Each step ``t`` (from 1), with ``g`` the gradient::

        g = g + weight_decay * p                                  (if weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Parameters
    ----------
    params : iterable of Tensor
        The tensors to update (``model.parameters()``).
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0
        L2 penalty added to the gradient (as ``torch.optim.Adam``, not AdamW).

    Raises
    ------
    ValueError
        If a hyperparameter is out of range.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import Adam
    >>> w = Tensor([1.0, -2.0])
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                # the first step moves each weight by lr
    >>> w.data
    array([ 0.9, -1.9])
    """

    hyperparameter_names = ("lr", "betas", "eps", "weight_decay")
    buffer_names = ("exp_avg", "exp_avg_sq")
    # AdamW shrinks the parameters instead of adding the decay to the gradient.
    _decoupled_weight_decay: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self._set_hyperparameters(
            {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )
        self.state["exp_avg"] = [np.zeros_like(p.data) for p in self.params]
        self.state["exp_avg_sq"] = [np.zeros_like(p.data) for p in self.params]

    def _set_hyperparameters(self, values: Mapping[str, Any]) -> None:
        lr = _check_number("lr", values["lr"])
        betas = values["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        pair = list(betas)
        if len(pair) != 2:
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        beta1 = _check_number("betas[0]", pair[0], below=1.0)
        beta2 = _check_number("betas[1]", pair[1], below=1.0)
        eps = _check_number("eps", values["eps"])
        weight_decay = _check_number("weight_decay", values["weight_decay"])
        self.lr, self.betas, self.eps, self.weight_decay = lr, (beta1, beta2), eps, weight_decay

    def step(self) -> None:
        """Apply one update to every parameter, in place (see the class docstring).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Adam
        >>> w = Tensor([1.0]); (w * 3.0).sum().backward()
        >>> Adam([w], lr=0.1).step(); w.data
        array([0.9])
        """
        self.step_count += 1
        t = self.step_count
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        step_size = lr / (1.0 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**t)
        exp_avgs, exp_avg_sqs = self.state["exp_avg"], self.state["exp_avg_sq"]
        decoupled = self._decoupled_weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                if decoupled:
                    p.data *= 1.0 - lr * wd
                else:
                    g = g + wd * p.data
            m, v = exp_avgs[i], exp_avg_sqs[i]
            if m is None or v is None:  # only after a state dict that lacked them
                m = exp_avgs[i] = np.zeros_like(p.data)
                v = exp_avg_sqs[i] = np.zeros_like(p.data)
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * (g * g)
            denom = np.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += eps
            update = m / denom
            update *= step_size
            p.data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay, as `torch.optim.AdamW` computes it.

    The decay shrinks the parameters directly instead of being added to the gradient
    (Loshchilov and Hutter, "Decoupled Weight Decay Regularization"), so it is not
    rescaled by Adam's adaptive step. Each step ``t`` (from 1), with ``g`` the gradient::

        p = p * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Everything else (hyperparameters, buffers, `state_dict`) is `Adam`'s; only the
    default ``weight_decay`` differs (1e-2, PyTorch's). A state dict of an `Adam` does
    not load into an `AdamW`, nor the reverse.

    Parameters
    ----------
    params : iterable of Tensor
        The tensors to update (``model.parameters()``).
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 1e-2
        Decoupled weight decay: each step multiplies the parameters by
        ``1 - lr * weight_decay``.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import AdamW
    >>> w = Tensor([1.0, -2.0])
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()                # shrink by 1 - 0.1 * 0.5, then Adam's first step of lr
    >>> w.data
    array([ 0.85, -1.8 ])
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
