"""A character-level LSTM language model on generated text: Embedding -> LSTM -> Linear,
cross-entropy on the next character, Adam; prints the loss every few steps, then a greedy
sample from the trained model.

    python examples/char_lstm.py            # 300 steps, hidden 128, loss every 50
    python examples/char_lstm.py --quick    # 30 steps, hidden 32, loss every 10
    python examples/char_lstm.py --torch    # the same program on PyTorch

The text, the batches and the initial weights all come from one seeded NumPy generator,
so that --torch starts from the very same numbers and sees the same data.
"""
import argparse

import numpy as np

WORDS = ["the", "cat", "dog", "sat", "ran", "on", "under", "a", "mat", "tree", "and", "slept"]


def make_text(rng, n_sentences):
    """Sentences of the shape 'the cat sat on a mat.' from a fixed word list."""
    out = []
    for _ in range(n_sentences):
        subject = WORDS[rng.integers(1, 3)]
        verb = WORDS[rng.integers(3, 5)]
        place = WORDS[rng.integers(8, 10)]
        prep = WORDS[rng.integers(5, 7)]
        tail = " and slept" if rng.random() < 0.3 else ""
        out.append(f"the {subject} {verb} {prep} {WORDS[rng.integers(0, 2) * 7]} {place}{tail}.")
    return " ".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 small steps, print every 10")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    ap.add_argument("--double", action="store_true", help="float64 instead of float32")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    nn = torch.nn

    steps = args.steps or (30 if args.quick else 300)
    every = 10 if args.quick else 50
    emb, hidden = (16, 32) if args.quick else (32, 128)
    seq_len, batch = 20, 8
    dtype = torch.float64 if args.double else torch.float32
    rng = np.random.default_rng(0)

    text = make_text(rng, 400)
    chars = sorted(set(text))
    data = np.array([chars.index(ch) for ch in text], dtype=np.int64)
    vocab = len(chars)

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state

    model = CharLSTM().to(dtype)
    with torch.no_grad():  # PyTorch's default init distributions, drawn from NumPy's generator
        for name, p in model.named_parameters():
            if name.startswith("embed"):
                values = rng.standard_normal(tuple(p.shape))
            else:
                fan = hidden if name.startswith("lstm") else p.shape[-1] if p.dim() > 1 else hidden
                bound = 1 / np.sqrt(fan)
                values = rng.uniform(-bound, bound, tuple(p.shape))
            p.copy_(torch.tensor(values, dtype=dtype))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(steps):
        starts = rng.integers(0, len(data) - seq_len - 1, batch)
        window = np.stack([data[s:s + seq_len + 1] for s in starts])
        x, y = torch.tensor(window[:, :-1]), torch.tensor(window[:, 1:])
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % every == every - 1:
            print(f"step {step + 1} loss {loss.item():.8f}")

    # greedy sample, one character at a time, carrying the LSTM state
    with torch.no_grad():
        ids, state = [chars.index("t")], None
        for _ in range(40):
            logits, state = model(torch.tensor([[ids[-1]]]), state)
            ids.append(int(logits[0, -1].argmax().item()))
    print("sample:", repr("".join(chars[i] for i in ids)))


if __name__ == "__main__":
    main()
