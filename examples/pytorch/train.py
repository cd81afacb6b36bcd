#!/usr/bin/env python3
"""A PyTorch training loop measured by wattprint: one window per epoch, the
tokens seen as work. A small character-level model on generated text, so it
runs anywhere on a CPU.

    PYTHONPATH=bindings/python python3 examples/pytorch/train.py --epochs 3

With Hugging Face transformers, the same calls fit a TrainerCallback:
on_train_begin -> meter.start(); on_epoch_begin -> a window's __enter__;
on_step_end -> meter.add_work(tokens_in_batch, unit="tokens");
on_epoch_end -> the window's __exit__; on_train_end -> meter.stop().
"""
import argparse
import json
import random

import torch

import wattprint


def corpus(n_chars, seed=0):
    rnd = random.Random(seed)
    words = ["the", "cat", "dog", "sees", "likes", "river", "house", "tree", "today", "again"]
    out = []
    while sum(map(len, out)) < n_chars:
        out.append(" ".join(rnd.choice(words) for _ in range(5)) + ".\n")
    return "".join(out)[:n_chars]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60, help="steps per epoch")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()

    torch.manual_seed(0)
    text = corpus(20000)
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(c) for c in text])
    ctx, batch = 16, 64
    model = torch.nn.Sequential(
        torch.nn.Embedding(len(vocab), 32), torch.nn.Flatten(),
        torch.nn.Linear(32 * ctx, 256), torch.nn.Tanh(), torch.nn.Linear(256, len(vocab)))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    epochs = []
    with wattprint.Meter(name="examples/pytorch/train.py", project="examples",
                         experiment="pytorch") as meter:
        for epoch in range(args.epochs):
            with meter.window("epoch-%d" % epoch) as w:
                for _ in range(args.steps):
                    starts = torch.randint(0, len(ids) - ctx - 1, (batch,))
                    x = torch.stack([ids[s:s + ctx] for s in starts])
                    y = torch.stack([ids[s + ctx] for s in starts])
                    opt.zero_grad()
                    loss = loss_fn(model(x), y)
                    loss.backward()
                    opt.step()
                    meter.add_work(batch * ctx, unit="tokens")
            epochs.append({"epoch": epoch, "loss": float(loss), "energy_j":
                           w.result["energy"]["total_j"], "tokens": w.result["work"]["done"]})
            if not args.json:
                print("epoch %d: loss %.3f, %.2f J, %d tokens" % (
                    epoch, float(loss), w.result["energy"]["total_j"], w.result["work"]["done"]))
    if args.json:
        print(json.dumps({"epochs": epochs, "run": meter.result}))
    else:
        print("total: %.2f J, %.3g g CO2e, %.3g J per token" % (
            meter.result["energy"]["total_j"], meter.result["carbon"]["emissions_g"],
            meter.result["work"]["energy_per_unit_j"]))


if __name__ == "__main__":
    main()
