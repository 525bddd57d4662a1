"""PyTorch fixtures for the recurrent modules (tests/test_rnn.cpp). Run with Debian's python3-torch:
    /usr/bin/python3 tests/parity/rnn_modules.py

A case <name> writes, under tests/fixtures/nn/: the state dict (<name>.sd.<key>.npy, keys in order
in <name>.keys.txt), the input (<name>.in), the initial states when given (<name>.h0, <name>.c0),
the outputs (<name>.out, .hn, .cn; a cell writes .hn and, for LSTMCell, .cn), seeded upstream
gradients for each output (.gout, .ghn, .gcn) and the gradients of <out, gout> + <hn, ghn> +
<cn, gcn> w.r.t. the input (.grad_in), the initial states (.grad_h0, .grad_c0) and every
parameter (.grad.<key>). Everything float64.
"""
import os

import numpy as np
import torch
import torch.nn as nn

from common import FIXTURES, rnd


def save(name, part, t):
    os.makedirs(os.path.join(FIXTURES, "nn"), exist_ok=True)
    np.save(os.path.join(FIXTURES, "nn", f"{name}.{part}.npy"), t.detach().numpy())


def case(name, model, x, h0=None, c0=None, seed=0):
    model = model.double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5)
    sd = model.state_dict()
    with open(os.path.join(FIXTURES, "nn", f"{name}.keys.txt"), "w") as f:
        f.write("\n".join(sd.keys()) + "\n")
    for k, v in sd.items():
        save(name, f"sd.{k}", v)
    x = x.clone().requires_grad_(True)
    save(name, "in", x)
    states = []
    for part, s in (("h0", h0), ("c0", c0)):
        if s is not None:
            s = s.clone().requires_grad_(True)
            save(name, part, s)
            states.append(s)
    cell = isinstance(model, nn.RNNCellBase)
    if isinstance(model, (nn.LSTM, nn.LSTMCell)):
        hx = tuple(states) if states else None
    else:
        hx = states[0] if states else None
    res = model(x, hx)
    if cell:
        outs = {"hn": res[0], "cn": res[1]} if isinstance(model, nn.LSTMCell) else {"hn": res}
    elif isinstance(model, nn.LSTM):
        outs = {"out": res[0], "hn": res[1][0], "cn": res[1][1]}
    else:
        outs = {"out": res[0], "hn": res[1]}
    loss = 0.0
    for part, o in outs.items():
        go = torch.randn(o.shape, generator=g, dtype=torch.float64)
        save(name, part, o)
        save(name, "g" + part, go)
        loss = loss + (o * go).sum()
    names = [k for k, _ in model.named_parameters()]
    grads = torch.autograd.grad(loss, [x] + states + list(model.parameters()))
    save(name, "grad_in", grads[0])
    for part, gr in zip(["grad_h0", "grad_c0"], grads[1:1 + len(states)]):
        save(name, part, gr)
    for k, gr in zip(names, grads[1 + len(states):]):
        save(name, f"grad.{k}", gr)


def main():
    torch.manual_seed(0)
    case("rnn_cell_tanh", nn.RNNCell(3, 4), rnd(2, 3, seed=1), rnd(2, 4, seed=2), seed=3)
    case("rnn_cell_relu_unbatched", nn.RNNCell(3, 4, nonlinearity="relu"), rnd(3, seed=4),
         seed=5)
    case("lstm_cell", nn.LSTMCell(3, 4), rnd(2, 3, seed=6), rnd(2, 4, seed=7), rnd(2, 4, seed=8),
         seed=9)
    case("gru_cell", nn.GRUCell(3, 4), rnd(2, 3, seed=10), rnd(2, 4, seed=11), seed=12)
    case("gru_cell_nobias", nn.GRUCell(3, 4, bias=False), rnd(2, 3, seed=13), seed=14)
    case("rnn_relu_2l_bidir", nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True),
         rnd(5, 2, 3, seed=15), rnd(4, 2, 4, seed=16), seed=17)
    case("rnn_tanh_unbatched", nn.RNN(3, 4), rnd(5, 3, seed=18), seed=19)
    case("lstm_2l_bidir_bf", nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
         rnd(2, 5, 3, seed=20), rnd(4, 2, 4, seed=21), rnd(4, 2, 4, seed=22), seed=23)
    case("lstm_nobias_unbatched", nn.LSTM(3, 4, bias=False), rnd(5, 3, seed=24), seed=25)
    case("gru_2l_bidir_bf", nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
         rnd(2, 5, 3, seed=26), rnd(4, 2, 4, seed=27), seed=28)
    case("gru_3l", nn.GRU(2, 3, num_layers=3), rnd(4, 3, 2, seed=29), seed=30)


if __name__ == "__main__":
    main()
