"""Optimizer, scheduler and gradient-clipping fixtures (tests/test_optim.cpp, test_scheduler.cpp).

Optimizers: parameters w (3, 4) and b (4,) in float64 take 5 steps with fixed gradients (their
magnitude varies step to step, so amsgrad's running max matters); each case writes the
parameters after every step:
    optim.init.{w,b}.npy, optim.grads.{w,b}.npy (5, ...), optim.<case>.{w,b}.npy (5, ...)
A few cases also run in float32 (optim.<case>_f32.*, stored as float64).
Schedulers: sched.<case>.lr.npy holds get_last_lr()[0] after construction and after each
step (and .momentum.npy the cycled momentum for OneCycleLR).
Clipping: clip.<case>.{total,w,b}.npy: the returned norm and the clipped gradients.
"""
import math
import os

import numpy as np
import torch

from common import FIXTURES, rnd

STEPS = 5
SCALES = [1.0, 3.0, 0.2, 2.0, 0.5]


def save(name, a):
    np.save(os.path.join(FIXTURES, "optim", name + ".npy"), np.asarray(a, dtype=np.float64))


def params():
    w = rnd(3, 4, seed=1).requires_grad_(True)
    b = rnd(4, seed=2).requires_grad_(True)
    return w, b


def grads():
    gw = torch.stack([rnd(3, 4, seed=10 + k) * SCALES[k] for k in range(STEPS)])
    gb = torch.stack([rnd(4, seed=20 + k) * SCALES[k] for k in range(STEPS)])
    return gw, gb


OPTIM_CASES = {
    "sgd_plain": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd_dampening": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "sgd_wd_maximize": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.1,
                                                 maximize=True),
    "sgd_groups": lambda p: torch.optim.SGD([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.01}],
                                            lr=0.1, momentum=0.9),
    "rmsprop_plain": lambda p: torch.optim.RMSprop(p, lr=0.01),
    "rmsprop_momentum": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9),
    "rmsprop_centered": lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True),
    "rmsprop_all": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-3,
                                                 weight_decay=0.05, momentum=0.5, centered=True),
    "rmsprop_maximize": lambda p: torch.optim.RMSprop(p, lr=0.01, maximize=True),
    "adam_plain": lambda p: torch.optim.Adam(p, lr=0.1),
    "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=0.05, amsgrad=True),
    "adam_wd_amsgrad": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), weight_decay=0.1,
                                                  amsgrad=True),
    "adam_maximize": lambda p: torch.optim.Adam(p, lr=0.1, eps=1e-6, maximize=True),
    "adamw_plain": lambda p: torch.optim.AdamW(p, lr=0.1),
    "adamw_amsgrad_wd": lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.5, amsgrad=True),
}


def optim_cases():
    w, b = params()
    gw, gb = grads()
    save("optim.init.w", w.detach())
    save("optim.init.b", b.detach())
    save("optim.grads.w", gw)
    save("optim.grads.b", gb)
    for name, make in OPTIM_CASES.items():
        w, b = params()
        opt = make([w, b])
        tw, tb = [], []
        for k in range(STEPS):
            w.grad, b.grad = gw[k].clone(), gb[k].clone()
            opt.step()
            tw.append(w.detach().clone())
            tb.append(b.detach().clone())
        save(f"optim.{name}.w", torch.stack(tw))
        save(f"optim.{name}.b", torch.stack(tb))

    # float32: the scalars are applied in float32, as on the C++ side.
    for name in ["sgd_nesterov", "rmsprop_all", "adam_wd_amsgrad", "adamw_plain"]:
        w, b = (t.detach().float().requires_grad_(True) for t in params())
        opt = OPTIM_CASES[name]([w, b])
        tw, tb = [], []
        for k in range(STEPS):
            w.grad, b.grad = gw[k].float(), gb[k].float()
            opt.step()
            tw.append(w.detach().double())
            tb.append(b.detach().double())
        save(f"optim.{name}_f32.w", torch.stack(tw))
        save(f"optim.{name}_f32.b", torch.stack(tb))


def sched_run(name, opt, sched, steps, metrics=None, momentum_key=None):
    lrs = [sched.get_last_lr()[0] if metrics is None else opt.param_groups[0]["lr"]]
    moms = []

    def momentum():
        g = opt.param_groups[0]
        return g["betas"][0] if momentum_key == "beta1" else g["momentum"]

    if momentum_key:
        moms.append(momentum())
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        lrs.append(opt.param_groups[0]["lr"])
        if momentum_key:
            moms.append(momentum())
    save(f"sched.{name}.lr", lrs)
    if momentum_key:
        save(f"sched.{name}.momentum", moms)


def sched_cases():
    def sgd(lr=0.1, momentum=0.0):
        return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)

    o = sgd()
    sched_run("step", o, torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 12)
    o = sgd()
    sched_run("multistep", o, torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], gamma=0.1), 12)
    o = sgd()
    sched_run("exponential", o, torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 12)
    o = sgd()
    sched_run("cosine", o, torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
              17)
    o = sgd(momentum=0.9)
    sched_run("onecycle_cos", o, torch.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=12),
              12, momentum_key="momentum")
    o = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched_run("onecycle_linear3", o,
              torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=13, pct_start=0.25,
                                                  anneal_strategy="linear", three_phase=True),
              13, momentum_key="beta1")
    metrics = [10, 9, 9.5, 9.2, 9.1, 8, 8.5, 8.6, 8.7, 8.8, 8.9, 2, 2, 3, 3, 3, 3, 3, 3, 3]
    save("sched.plateau.metrics", metrics)
    o = sgd(lr=1.0)
    sched_run("plateau", o,
              torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1,
                                                         threshold=0.05, min_lr=0.2),
              len(metrics), metrics=metrics)
    o = sgd(lr=1.0)
    sched_run("plateau_max_abs", o,
              torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode="max", patience=1, factor=0.3,
                                                         threshold=0.5, threshold_mode="abs"),
              len(metrics), metrics=metrics)


def clip_cases():
    gw, gb = grads()
    for name, max_norm, norm_type in [("l2", 1.0, 2.0), ("l1", 2.0, 1.0), ("inf", 0.5, math.inf),
                                      ("l3_noclip", 100.0, 3.0)]:
        w, b = params()
        w.grad, b.grad = gw[1].clone(), gb[1].clone()
        total = torch.nn.utils.clip_grad_norm_([w, b], max_norm, norm_type)
        save(f"clip.{name}.total", total.detach())
        save(f"clip.{name}.w", w.grad)
        save(f"clip.{name}.b", b.grad)


if __name__ == "__main__":
    os.makedirs(os.path.join(FIXTURES, "optim"), exist_ok=True)  # not op fixtures
    optim_cases()
    sched_cases()
    clip_cases()
