"""PyTorch fixtures for Embedding, the containers, the activation modules and the 1-D layers
(tests/test_nn_embedding.cpp, tests/test_nn_containers.cpp, tests/test_nn_layers1d.cpp), in the
module-case format of nn_modules.py (tests/fixtures/nn/<name>.*). Run with Debian's
python3-torch:
    /usr/bin/python3 tests/parity/nn_modules_more.py
"""
import torch
import torch.nn as nn

from common import rnd
from nn_modules import module_case


def ids(*shape, high, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g, dtype=torch.int64)


class Net(nn.Module):
    """An embedding, a ModuleList and a ModuleDict as submodules (tests/test_nn_containers.cpp)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(6, 3, padding_idx=0)
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3, bias=False)])
        self.heads = nn.ModuleDict({"out": nn.Linear(3, 2), "aux": nn.Linear(3, 2)})
        self.act = nn.GELU()

    def forward(self, x):
        h = self.embed(x)
        for layer in self.layers:
            h = self.act(layer(h))
        return self.heads["out"](h) + 0.5 * self.heads["aux"](h)


def cases():
    x = ids(3, 4, high=7, seed=60)
    x[0, 1] = 5  # the padding row (padding_idx -2 of 7)
    x[2, 3] = x[1, 0]  # a repeated id
    embed = nn.Sequential(
        nn.Embedding(7, 4, padding_idx=-2, max_norm=0.55),
        nn.Flatten(),
        nn.Linear(16, 5),
        nn.GELU(approximate="tanh"),
        nn.LogSoftmax(dim=1),
    )
    module_case("nn_embedding_seq", embed, x, seed=61)
    l1 = nn.Sequential(
        nn.Embedding(6, 4, max_norm=0.9, norm_type=1.0),
        nn.AvgPool1d(3, stride=1, padding=1),  # count_include_pad over [N, T, D] as [N, C, L]
        nn.Flatten(),
    )
    module_case("nn_embedding_l1", l1, ids(2, 3, high=6, seed=68), seed=69)

    conv = nn.Sequential(
        nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2),
        nn.SiLU(),
        nn.MaxPool1d(3, stride=2, padding=1),
        nn.Conv1d(4, 3, 2, bias=False),
        nn.GELU(),
        nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
        nn.Flatten(),
        nn.Softmax(dim=1),
        nn.Identity(),
    )
    module_case("nn_conv1d_seq", conv, rnd(2, 2, 16, seed=62) * 2.0, seed=63)
    unbatched = nn.Sequential(nn.Conv1d(3, 2, 3, padding=1), nn.AvgPool1d(2), nn.MaxPool1d(2))
    module_case("nn_conv1d_unbatched", unbatched, rnd(3, 8, seed=64), seed=65)

    y = ids(2, 4, high=6, seed=66)
    y[1, 2] = 0
    module_case("nn_containers", Net(), y, seed=67)


if __name__ == "__main__":
    cases()
