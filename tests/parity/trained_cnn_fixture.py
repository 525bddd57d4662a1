"""A small CNN trained for a few steps in PyTorch, its weights written in the safetensors layout
(plain, as another tool writes them: no xgrad checksums), with an input and the model's eval-mode
output, for tests/test_checkpoint.cpp (PyTorch-trained weights load into the same xgrad model and
give the same outputs).

    /usr/bin/python3 tests/parity/trained_cnn_fixture.py
writes tests/fixtures/checkpoints/trained_cnn.{safetensors,x.npy,y.npy}
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import FIXTURES
from safetensors_fixture import write_safetensors


def model():
    # The same layers as tests/test_checkpoint.cpp's trained_cnn().
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.25), nn.Linear(6 * 2 * 2, 5))


def main():
    torch.manual_seed(0)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.randn(16, 1, 8, 8)
    y = torch.randint(0, 5, (16,))
    for _ in range(20):  # trained weights and running statistics, not the initial ones
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    xt = torch.randn(3, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        out = net.double()(xt)
        net.float()
    tensors = [(k, v.numpy()) for k, v in net.state_dict().items()]
    d = os.path.join(FIXTURES, "checkpoints")
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "trained_cnn.safetensors"), tensors, {"format": "pt"},
                      xgrad_checksums=False)
    np.save(os.path.join(d, "trained_cnn.x.npy"), xt.numpy())
    np.save(os.path.join(d, "trained_cnn.y.npy"), out.numpy())


if __name__ == "__main__":
    main()
