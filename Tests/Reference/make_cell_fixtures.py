#!/usr/bin/env python3
"""Build the PyTorch reference fixtures for charnn's GRU and RNN forward/backward tests.

What it builds
--------------
``Tests/CharNNTests/Fixtures/gru_reference.safetensors`` and ``rnn_reference.safetensors``:
the model of make_lstm_fixture.py with the cell swapped, embedding -> 2-layer ``nn.GRU``
(or ``nn.RNN(nonlinearity="tanh")``) -> linear head -> mean softmax cross-entropy, at the
same deliberately distinct sizes V=17, E=10, H=12, L=2, B=4, T=6.

* Parameters are float32, PyTorch's default init with ``torch.manual_seed(1234)``, then
  every bias gets +0.1*randn noise so bias gradients are non-trivial (charnn's own init
  leaves GRU and RNN biases at 0; the test loads these weights).
  Gate order along the GRU's 3H axis is PyTorch's: r, z, n.
* The forward and backward pass run in float64 on an exact float64 copy of those weights
  and of ``h0``, so the stored results are the (near-)exact answer for the float32 inputs.

Stored tensors (``state_dict`` names of a ``ModuleDict`` with keys ``embedding``,
``gru``/``rnn``, ``head``; G = 3 for the GRU, 1 for the RNN)::

    embedding.weight [V,E]  gru.weight_ih_l0 [G*H,E]  gru.weight_hh_l0 [G*H,H]
    gru.bias_ih_l0 [G*H]    gru.bias_hh_l0 [G*H]      (same for _l1, weight_ih_l1 is [G*H,H])
    head.weight [V,H]       head.bias [V]                                 -- F32
    inputs [B,T], targets [B,T]                                           -- I64
    h0 [L,B,H]                                                            -- F32
    logits [B,T,V], loss [1], h_n [L,B,H],
    grad.<param name> (same shape as the parameter), grad.h0              -- F64

Each run also checks nn.GRU / nn.RNN against an independent numpy float64 forward pass
written from the equations (n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n
+ z * h; h' = tanh(W_ih x + b_ih + W_hh h + b_hh)).

How to run
----------
With the PyTorch environment of make_lstm_fixture.py, from the repository root::

    $PYTHON Tests/Reference/make_cell_fixtures.py

The fixtures are committed; CI does not run this. Re-running with the same torch version
reproduces them byte for byte (the writer is make_lstm_fixture.py's).
"""

import argparse
import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_lstm_fixture import write_safetensors  # noqa: E402

V, E, H, L, B, T = 17, 10, 12, 2, 4, 6
SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "CharNNTests", "Fixtures"))


def build(cell):
    torch.manual_seed(SEED)
    rnn = nn.GRU(E, H, num_layers=L, batch_first=True) if cell == "gru" else \
        nn.RNN(E, H, num_layers=L, nonlinearity="tanh", batch_first=True)
    model = nn.ModuleDict({"embedding": nn.Embedding(V, E), cell: rnn, "head": nn.Linear(H, V)}).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "bias" in name:
                p.add_(0.1 * torch.randn_like(p))
    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    h0 = (0.5 * torch.randn(L, B, H)).float()
    return model, inputs, targets, h0


def run_float64(model, cell, inputs, targets, h0):
    m64 = copy.deepcopy(model).double()
    m64.zero_grad(set_to_none=True)
    h0_64 = h0.double().requires_grad_(True)
    out, h_n = m64[cell](m64["embedding"](inputs), h0_64)
    logits = m64["head"](out)
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in m64.named_parameters()}
    grads["h0"] = h0_64.grad.detach().clone()
    return m64, logits.detach(), loss.detach(), h_n.detach(), grads


def numpy_forward(t, cell):
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))
    x = t["embedding.weight"].astype(np.float64)[t["inputs"]]
    hs = []
    for k in range(L):
        Wih, Whh = (t[f"{cell}.{n}_l{k}"].astype(np.float64) for n in ("weight_ih", "weight_hh"))
        bih, bhh = (t[f"{cell}.{n}_l{k}"].astype(np.float64) for n in ("bias_ih", "bias_hh"))
        h = t["h0"][k].astype(np.float64)
        ys = []
        for s in range(T):
            gx, gh = x[:, s] @ Wih.T + bih, h @ Whh.T + bhh
            if cell == "gru":
                r = sig(gx[:, :H] + gh[:, :H])
                z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - z) * n + z * h
            else:
                h = np.tanh(gx + gh)
            ys.append(h)
        x = np.stack(ys, axis=1)
        hs.append(h)
    logits = x @ t["head.weight"].astype(np.float64).T + t["head.bias"].astype(np.float64)
    flat = logits.reshape(-1, V)
    mx = flat.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(flat - mx).sum(axis=1))
    loss = np.mean(lse - flat[np.arange(B * T), t["targets"].reshape(-1)])
    return logits, loss, np.stack(hs)


def make(cell, out):
    from safetensors.numpy import load_file

    model, inputs, targets, h0 = build(cell)
    m64, logits, loss, h_n, grads = run_float64(model, cell, inputs, targets, h0)
    for (n32, p32), (n64, p64) in zip(model.named_parameters(), m64.named_parameters()):
        assert n32 == n64 and torch.equal(p32.double(), p64.detach()), n32
    tensors = {name: p.detach().contiguous().numpy() for name, p in model.state_dict().items()}
    tensors.update(inputs=inputs.numpy(), targets=targets.numpy(), h0=h0.numpy(), logits=logits.numpy(),
                   loss=loss.reshape(1).numpy(), h_n=h_n.numpy())
    for name in [n for n, _ in model.named_parameters()] + ["h0"]:
        tensors[f"grad.{name}"] = grads[name].numpy()
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    metadata = {
        "cell": cell, "vocab_size": str(V), "embedding_size": str(E), "hidden_size": str(H),
        "layers": str(L), "batch": str(B), "seq": str(T), "torch_version": torch.__version__,
        "description": f"charnn {cell.upper()} reference: float32 weights, float64 forward/backward",
    }
    write_safetensors(out, tensors, metadata)
    back = load_file(out)
    assert set(back) == set(tensors) and all(np.array_equal(back[k], v) for k, v in tensors.items())
    np_logits, np_loss, np_hn = numpy_forward(back, cell)
    err = max(np.abs(np_logits - back["logits"]).max(), abs(np_loss - back["loss"][0]), np.abs(np_hn - back["h_n"]).max())
    assert err < 1e-12, err
    print(f"{cell}: wrote {out} ({os.path.getsize(out)} bytes), loss {loss.item():.17g}, numpy forward max err {err:.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=FIXTURES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for cell in ("gru", "rnn"):
        make(cell, os.path.join(args.out_dir, f"{cell}_reference.safetensors"))


if __name__ == "__main__":
    main()
