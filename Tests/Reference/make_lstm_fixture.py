#!/usr/bin/env python3
"""Build the PyTorch reference fixture for charnn's LSTM forward/backward tests.

What it builds
--------------
``Tests/CharNNTests/Fixtures/lstm_reference.safetensors``: a tiny character model
(embedding -> 2-layer LSTM -> linear head -> mean softmax cross-entropy) with
deliberately distinct sizes V=17 (vocab), E=10 (embedding), H=12 (hidden),
L=2 (layers), B=4 (batch), T=6 (steps), so that any transposed or mis-strided
layout shows up as a mismatch.

* Parameters are float32, PyTorch default init with ``torch.manual_seed(1234)``,
  then charnn's init (forget-gate slice of ``bias_ih_l{k}``, rows H..2H, = 1.0;
  the same slice of ``bias_hh_l{k}`` = 0), then every bias (LSTM and head)
  gets +0.1*randn noise so bias gradients are non-trivial.
  Gate order along the 4H axis is PyTorch's: i, f, g, o.
* The forward and backward pass run in float64 on an exact float64 copy of
  those float32 weights and of ``h0``/``c0``, so the stored results are the
  (near-)exact answer for the float32-representable inputs.

Stored tensors (PyTorch ``state_dict`` names of a ``ModuleDict`` with keys
``embedding``, ``lstm``, ``head``)::

    embedding.weight [V,E]  lstm.weight_ih_l0 [4H,E]  lstm.weight_hh_l0 [4H,H]
    lstm.bias_ih_l0 [4H]    lstm.bias_hh_l0 [4H]      (same for _l1, weight_ih_l1 is [4H,H])
    head.weight [V,H]       head.bias [V]                                 -- F32
    inputs [B,T], targets [B,T]                                           -- I64
    h0 [L,B,H], c0 [L,B,H]                                                -- F32
    logits [B,T,V], loss [1], h_n [L,B,H], c_n [L,B,H],
    grad.<param name> (same shape as the parameter), grad.h0, grad.c0     -- F64

``loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))`` (mean over
B*T); gradients are of that loss.

The same model, inputs and initial state run once more with dropout as charnn applies
it in training (Sources/CharNN/Model/Dropout.swift): inverted dropout on the output of
*every* LSTM layer, the last one included (before the head), which nn.LSTM's own
``dropout`` (between layers only) cannot express, so the layers run one at a time.
The masks are fixed, drawn here with probability P_DROP, each entry 0 or
float32(1/(1-P_DROP)), the value charnn multiplies by::

    dropout.mask [L,B,T,H]                                                -- F32
    dropout.logits [B,T,V], dropout.loss [1], dropout.h_n, dropout.c_n,
    dropout.grad.<param name>, dropout.grad.h0, dropout.grad.c0           -- F64

How to run
----------
Needs PyTorch (../shared/peers/README.md explains which wheel), for example in
the same virtual environment scripts/compare-peers.sh uses, inside the
repository's ignored .build folder::

    python3 -m venv .build/peers-env
    .build/peers-env/bin/pip install "torch==2.13.0+cpu" numpy threadpoolctl safetensors
    .build/peers-env/bin/python Tests/Reference/make_lstm_fixture.py

(run from the repository root, or pass ``--out PATH``). The generated fixture is
committed; this script does NOT need to run in CI. It re-reads the file and
checks it (with ``safetensors.numpy.load_file`` and its own header parser),
including an independent numpy float64 forward pass. The file is written by a
small deterministic writer (metadata in a fixed order), so re-running the
script with the same torch version reproduces it byte for byte. Tensor data
order: I64, then F64, then F32 (all naturally aligned); readers should use
``data_offsets`` in any case.
"""

import argparse
import copy
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

V, E, H, L, B, T = 17, 10, 12, 2, 4, 6
SEED = 1234
P_DROP = 0.25

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(
    os.path.join(HERE, "..", "CharNNTests", "Fixtures", "lstm_reference.safetensors"))


def build():
    torch.manual_seed(SEED)
    model = nn.ModuleDict({
        "embedding": nn.Embedding(V, E),
        "lstm": nn.LSTM(E, H, num_layers=L, batch_first=True, dropout=0.0),
        "head": nn.Linear(H, V),
    }).float()

    with torch.no_grad():
        lstm = model["lstm"]
        for k in range(L):
            getattr(lstm, f"bias_ih_l{k}")[H:2 * H] = 1.0  # forget gate (order i, f, g, o)
            getattr(lstm, f"bias_hh_l{k}")[H:2 * H] = 0.0
        for name, p in model.named_parameters():
            if "bias" in name:
                p.add_(0.1 * torch.randn_like(p))

    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    h0 = (0.5 * torch.randn(L, B, H)).float()
    c0 = (0.5 * torch.randn(L, B, H)).float()
    return model, inputs, targets, h0, c0


def run_float64(model, inputs, targets, h0, c0):
    m64 = copy.deepcopy(model).double()
    m64.zero_grad(set_to_none=True)
    h0_64 = h0.double().requires_grad_(True)
    c0_64 = c0.double().requires_grad_(True)
    emb = m64["embedding"](inputs)
    out, (h_n, c_n) = m64["lstm"](emb, (h0_64, c0_64))
    logits = m64["head"](out)  # [B, T, V]
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in m64.named_parameters()}
    grads["h0"] = h0_64.grad.detach().clone()
    grads["c0"] = c0_64.grad.detach().clone()
    return m64, logits.detach(), loss.detach(), h_n.detach(), c_n.detach(), grads


def dropout_masks():
    """Fixed masks [L, B, T, H]: 0 with probability P_DROP, else float32(1/(1-P_DROP))."""
    g = torch.Generator().manual_seed(SEED + 1)
    keep = np.float32(1) / (np.float32(1) - np.float32(P_DROP))
    dropped = torch.rand(L, B, T, H, generator=g) < P_DROP
    return torch.where(dropped, torch.tensor(0.0), torch.tensor(float(keep))).float()


def run_float64_dropout(model, inputs, targets, h0, c0, masks):
    """charnn's training forward with the given masks: layer by layer, each output masked."""
    m64 = copy.deepcopy(model).double()
    m64.zero_grad(set_to_none=True)
    h0_64 = h0.double().requires_grad_(True)
    c0_64 = c0.double().requires_grad_(True)
    lstm = m64["lstm"]
    x = m64["embedding"](inputs)
    hs, cs = [], []
    for k in range(L):
        w = [getattr(lstm, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h, c = h0_64[k], c0_64[k]
        outs = []
        for t in range(T):
            gates = x[:, t] @ w[0].T + w[2] + h @ w[1].T + w[3]
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        hs.append(h)
        cs.append(c)
        x = torch.stack(outs, dim=1) * masks[k].double()
    logits = m64["head"](x)
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in m64.named_parameters()}
    grads["h0"] = h0_64.grad.detach().clone()
    grads["c0"] = c0_64.grad.detach().clone()
    return logits.detach(), loss.detach(), torch.stack(hs).detach(), torch.stack(cs).detach(), grads


def numpy_forward(t):
    """Independent float64 forward pass from the stored tensors (documents the math)."""
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))
    x = t["embedding.weight"].astype(np.float64)[t["inputs"]]  # [B,T,E]
    hs, cs = [], []
    for k in range(L):
        Wih = t[f"lstm.weight_ih_l{k}"].astype(np.float64)
        Whh = t[f"lstm.weight_hh_l{k}"].astype(np.float64)
        b = t[f"lstm.bias_ih_l{k}"].astype(np.float64) + t[f"lstm.bias_hh_l{k}"].astype(np.float64)
        h = t["h0"][k].astype(np.float64)
        c = t["c0"][k].astype(np.float64)
        ys = []
        for s in range(T):
            z = x[:, s] @ Wih.T + h @ Whh.T + b
            i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            ys.append(h)
        x = np.stack(ys, axis=1)
        hs.append(h)
        cs.append(c)
    logits = x @ t["head.weight"].astype(np.float64).T + t["head.bias"].astype(np.float64)
    flat = logits.reshape(-1, V)
    mx = flat.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(flat - mx).sum(axis=1))
    loss = np.mean(lse - flat[np.arange(B * T), t["targets"].reshape(-1)])
    return logits, loss, np.stack(hs), np.stack(cs)


def write_safetensors(path, tensors, metadata):
    """Deterministic safetensors writer (the library emits __metadata__ in hash order,
    so its bytes change from run to run). Layout: u64 LE header length N, N bytes of
    JSON padded with spaces to a multiple of 8, then the tensors contiguously in
    header order. 8-byte dtypes come first so every tensor is naturally aligned."""
    dtype_name = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
    order = sorted(tensors, key=lambda k: -tensors[k].dtype.itemsize)  # stable: keeps insertion order
    header = {"__metadata__": metadata}
    blobs, pos = [], 0
    for k in order:
        a = np.ascontiguousarray(tensors[k])
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[k] = {"dtype": dtype_name[a.dtype], "shape": list(a.shape), "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hjson)))
        fh.write(hjson)
        for raw in blobs:
            fh.write(raw)


def read_header(path):
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n).decode("utf-8"))
    return n, header


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)

    from safetensors.numpy import load_file  # used only to cross-check our writer

    model, inputs, targets, h0, c0 = build()
    m64, logits, loss, h_n, c_n, grads = run_float64(model, inputs, targets, h0, c0)
    masks = dropout_masks()
    d_logits, d_loss, d_hn, d_cn, d_grads = run_float64_dropout(model, inputs, targets, h0, c0, masks)
    # With every mask entry 1 the layer-by-layer pass is the plain one: it computes what nn.LSTM does.
    ones = run_float64_dropout(model, inputs, targets, h0, c0, torch.ones(L, B, T, H))
    assert (ones[0] - logits).abs().max().item() < 1e-12
    assert all((ones[4][n] - grads[n]).abs().max().item() < 1e-12 for n in grads)

    # The float64 copy must hold exactly the float32 values.
    for (n32, p32), (n64, p64) in zip(model.named_parameters(), m64.named_parameters()):
        assert n32 == n64 and torch.equal(p32.double(), p64.detach()), n32

    tensors = {}
    param_names = [name for name, _ in model.named_parameters()]
    for name, p in model.state_dict().items():
        assert p.dtype == torch.float32
        tensors[name] = p.detach().contiguous().numpy()
    tensors["inputs"] = inputs.numpy()
    tensors["targets"] = targets.numpy()
    tensors["h0"] = h0.numpy()
    tensors["c0"] = c0.numpy()
    tensors["logits"] = logits.numpy()
    tensors["loss"] = loss.reshape(1).numpy()
    tensors["h_n"] = h_n.numpy()
    tensors["c_n"] = c_n.numpy()
    for name in param_names + ["h0", "c0"]:
        tensors[f"grad.{name}"] = grads[name].numpy()
    tensors["dropout.mask"] = masks.numpy()
    tensors["dropout.logits"] = d_logits.numpy()
    tensors["dropout.loss"] = d_loss.reshape(1).numpy()
    tensors["dropout.h_n"] = d_hn.numpy()
    tensors["dropout.c_n"] = d_cn.numpy()
    for name in param_names + ["h0", "c0"]:
        tensors[f"dropout.grad.{name}"] = d_grads[name].numpy()
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}

    metadata = {
        "vocab_size": str(V), "embedding_size": str(E), "hidden_size": str(H),
        "layers": str(L), "batch": str(B), "seq": str(T), "dropout": str(P_DROP),
        "torch_version": torch.__version__,
        "description": "charnn LSTM reference: float32 weights, float64 forward/backward",
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)

    # ---- verify by re-reading ----
    size = os.path.getsize(args.out)
    assert size < 500 * 1024, size
    back = load_file(args.out)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape and np.array_equal(back[k], v), k
    n, header = read_header(args.out)
    assert n % 8 == 0 and header["__metadata__"] == metadata
    for k, v in header.items():
        if k != "__metadata__":
            assert v["data_offsets"][0] % tensors[k].dtype.itemsize == 0, k  # aligned
    want_dtype = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
    for k, v in tensors.items():
        assert header[k]["dtype"] == want_dtype[v.dtype] and header[k]["shape"] == list(v.shape), k
    assert back["loss"][0] == loss.item()
    assert back["logits"][1, 2, 3] == logits[1, 2, 3].item()
    assert back["grad.lstm.weight_hh_l1"][5, 7] == grads["lstm.weight_hh_l1"][5, 7].item()
    assert np.all(back["lstm.bias_hh_l0"][H:2 * H] != 0) and np.all(np.abs(back["lstm.bias_ih_l1"][H:2 * H] - 1) < 0.5)

    # Independent numpy forward from the stored float32 inputs.
    np_logits, np_loss, np_hn, np_cn = numpy_forward(back)
    err = max(np.abs(np_logits - back["logits"]).max(), abs(np_loss - back["loss"][0]),
              np.abs(np_hn - back["h_n"]).max(), np.abs(np_cn - back["c_n"]).max())
    assert err < 1e-12, err

    # Float32 forward/backward for orientation: how far a float32 implementation lands.
    model.zero_grad(set_to_none=True)
    h32, c32 = h0.clone().requires_grad_(True), c0.clone().requires_grad_(True)
    out32, _ = model["lstm"](model["embedding"](inputs), (h32, c32))
    loss32 = F.cross_entropy(model["head"](out32).reshape(-1, V), targets.reshape(-1))
    loss32.backward()
    gerr = max((p.grad.double() - grads[nm]).abs().max().item() for nm, p in model.named_parameters())

    print(f"torch {torch.__version__}; wrote {args.out}")
    print(f"loss (float64) = {loss.item():.17g}   (float32 run: {loss32.item():.9g}, |diff| {abs(loss32.item() - loss.item()):.2e})")
    print(f"max |float32 grad - float64 grad| = {gerr:.2e}; numpy float64 forward max err = {err:.2e}")
    print(f"file size = {size} bytes, header = {n} bytes, {len(tensors)} tensors")
    for k in (k for k in header if k != "__metadata__"):
        print(f"  {k:28s} {header[k]['dtype']}  {header[k]['shape']}")


if __name__ == "__main__":
    main()
