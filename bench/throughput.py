"""Training throughput of every aekit model family against a plain hand-written PyTorch loop.

For each family, at batch 128 and 1024: aekit's ``fit`` (set-up and the final encoding of the
training rows included; its training loop alone from the epoch times in ``history_``) and a plain
loop of the same network and objective (what a competent user writes: default Adam, slicing a
tensor with a fresh permutation per epoch, ``loss.item()`` per batch to log) train on the 5,000
MNIST digits in the same process, alternating runs after a warm-up epoch each; medians in
samples/s, their ratio, and aekit's achieved GFLOP/s against this machine's 2048x2048 fp32 matmul
peak, measured again after each row. FLOPs are the matrix products and convolutions of one epoch
of the plain loop (forward and backward, greedy schedules and penalties included) as counted by
``torch.utils.flop_counter.FlopCounterMode``; for an MLP that is 6 x the weights per sample, less
2 x the first layer's weights (the data needs no gradient).

Then the mixed-precision row (aekit ``precision="bf16-mixed"`` at batch 1024 against the plain
fp32 loop, with the test losses on the mnist5k test split) and a profile of one epoch of aekit's
loop at batch 1024 grouped into forward, backward, optimiser, casts and data slicing.

Run: python bench/throughput.py [--epochs 3] [--repeats 5] [--families ae,tied,...] [--quick]
"""

import argparse
import statistics
import time
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from _machine import describe, matmul_peak_gflops
from aekit import (
    GAN,
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    VariationalAutoencoder,
)
from aekit.datasets import load
from aekit.training import Trainer

BATCH_SIZES = (128, 1024)


# ---- the plain loops --------------------------------------------------------------------------
def mlp(*widths):
    """Linear layers with ReLU between them (none after the last)."""
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class TiedDecoder(nn.Module):
    """The encoder's linear layers transposed, last first, with biases of their own and ReLU between."""

    def __init__(self, encoder):
        super().__init__()
        self.linears = [m for m in encoder if isinstance(m, nn.Linear)][::-1]  # a list: shared, not registered
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(m.in_features)) for m in self.linears)

    def forward(self, h):
        for i, (layer, bias) in enumerate(zip(self.linears, self.biases)):
            h = F.linear(h, layer.weight.t(), bias)
            h = F.relu(h) if i < len(self.biases) - 1 else h
        return h


class Plain(nn.Module):
    """encoder -> code activation -> decoder -> sigmoid; returns (pre-activation, code, output)."""

    def __init__(self, encoder, decoder, code=None):
        super().__init__()
        self.encoder, self.decoder, self.code = encoder, decoder, code or nn.Identity()

    def forward(self, x):
        pre = self.encoder(x)
        code = self.code(pre)
        return pre, code, torch.sigmoid(self.decoder(code))


def deep_mlp(code=None, tied=False):
    """The 784-512-256-16 autoencoder (the aekit default's shape)."""
    encoder = mlp(784, 512, 256, 16)
    return Plain(encoder, TiedDecoder(encoder) if tied else mlp(16, 256, 512, 784), code)


def conv_net():
    """aekit's arch="conv" default: two stride-2 3x3 convolutions (32, 64 channels), a dense code of 16."""
    encoder = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
                            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(64 * 7 * 7, 16))
    decoder = nn.Sequential(nn.Linear(16, 64 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                            nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(),
                            nn.ConvTranspose2d(32, 1, 3, 2, 1, 1), nn.Flatten())
    return Plain(encoder, decoder)


def reconstruction(penalty=None, corrupt=None):
    """Squared error per example (summed over features), batch mean, plus ``penalty(model, pre, code)``."""
    def objective(model, x):
        pre, code, out = model(corrupt(x) if corrupt else x)
        loss = (out - x).square().sum(1).mean()
        return loss + penalty(model, pre, code) if penalty else loss
    return objective


def kl_sparsity(model, pre, code, target=0.05, weight=3.0):
    q = code.mean(0).clamp(1e-6, 1 - 1e-6)
    return weight * (target * torch.log(target / q) + (1 - target) * torch.log((1 - target) / (1 - q))).sum()


def contraction(model, pre, code, weight=0.1):
    # closed form for one sigmoid layer: ||J||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_j||^2
    return weight * ((code * (1 - code)).square() @ model.encoder[-1].weight.square().sum(1)).mean()


def elbo(model, x):
    mu, logvar = model["encoder"](x).chunk(2, 1)
    z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
    nll = F.binary_cross_entropy_with_logits(model["decoder"](z), x, reduction="none").sum(1).mean()
    return nll + 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1).mean()


def adam_step(parameters, objective, **adam):
    """One training step as people write it, returning the loss as a float for the log."""
    optimizer = torch.optim.Adam(parameters, **adam)

    def step(batch):
        loss = objective(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def run_epochs(X, epochs, batch_size, step):
    for _ in range(epochs):
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = X[order[start:start + batch_size]]
            total += step(batch) * len(batch)


def plain_fit(build):
    """A plain fit of the network and objective that ``build(X)`` returns."""
    def fit(X, epochs, batch_size):
        model, objective = build(X)
        run_epochs(X, epochs, batch_size, adam_step(model.parameters(), lambda batch: objective(model, batch)))
        return model
    return fit


def gaussian_noise(X, level=0.3):
    low, high = X.amin(0), X.amax(0)
    return lambda x: torch.clamp(x + level * torch.randn_like(x), low, high)


def plain_stacked(X, epochs, batch_size):
    """784-1000-500-250-30 tied: each layer first trained alone as a one-hidden-layer autoencoder of the
    codes below (sigmoid output on the data, linear on codes), then fine-tuned end to end."""
    encoder = mlp(784, 1000, 500, 250, 30)
    model = Plain(encoder, TiedDecoder(encoder))
    layers = encoder[::2]
    inputs = X
    for i, layer in enumerate(layers):
        bias = model.decoder.biases[len(layers) - 1 - i]
        act = F.relu if i < len(layers) - 1 else nn.Identity()
        out = torch.sigmoid if i == 0 else nn.Identity()

        # the layer's modules bound as defaults: each phase's objective keeps its own layer
        def objective(batch, out=out, act=act, layer=layer, bias=bias):
            return (out(F.linear(act(layer(batch)), layer.weight.t(), bias)) - batch).square().sum(1).mean()
        run_epochs(inputs, epochs, batch_size, adam_step([layer.weight, layer.bias, bias], objective))
        with torch.no_grad():
            inputs = act(layer(inputs))
    run_epochs(X, epochs, batch_size, adam_step(model.parameters(), lambda batch: reconstruction()(model, batch)))
    return model


def plain_gan(X, epochs, batch_size, latent=64):
    """The MLP GAN of aekit's defaults: a batch-normalised generator, a LeakyReLU(0.2) discriminator,
    non-saturating loss, Adam(2e-4, betas (0.5, 0.999)), one discriminator step per generator step."""
    generator = nn.Sequential(nn.Linear(latent, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2),
                              nn.Linear(256, 512), nn.BatchNorm1d(512), nn.LeakyReLU(0.2), nn.Linear(512, 784))
    discriminator = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                                  nn.Linear(256, 1))
    adam = {"lr": 2e-4, "betas": (0.5, 0.999)}
    fakes = []

    def d_loss(batch):
        fakes[:] = [torch.sigmoid(generator(torch.randn(max(len(batch), 2), latent)))]
        real, fake = discriminator(batch), discriminator(fakes[0].detach())
        return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))

    def g_loss(batch):
        fake = discriminator(fakes[0])
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    d_step = adam_step(discriminator.parameters(), d_loss, **adam)
    g_step = adam_step(generator.parameters(), g_loss, **adam)
    run_epochs(X, epochs, batch_size, lambda batch: d_step(batch) + g_step(batch))
    return generator


class Family(NamedTuple):
    deterministic: bool
    estimator: type
    params: dict
    plain: object  # plain(X, epochs, batch_size) -> the trained model


FAMILIES = {
    "ae": Family(True, Autoencoder, {}, plain_fit(lambda X: (deep_mlp(), reconstruction()))),
    "tied": Family(True, Autoencoder, {"tied": True}, plain_fit(lambda X: (deep_mlp(tied=True), reconstruction()))),
    "sparse-l1": Family(True, Autoencoder, {"sparsity": "l1"}, plain_fit(lambda X: (
        deep_mlp(code=nn.ReLU()), reconstruction(lambda model, pre, code: 0.02 * code.abs().sum(1).mean())))),
    "sparse-kl": Family(True, SparseAutoencoder, {}, plain_fit(lambda X: (
        Plain(mlp(784, 400), mlp(400, 784), nn.Sigmoid()), reconstruction(kl_sparsity)))),
    "contractive": Family(True, ContractiveAutoencoder, {}, plain_fit(lambda X: (
        Plain(mlp(784, 256), mlp(256, 784), nn.Sigmoid()), reconstruction(contraction)))),
    "conv": Family(True, Autoencoder, {"arch": "conv"}, plain_fit(lambda X: (conv_net(), reconstruction()))),
    "stacked": Family(True, StackedAutoencoder, {}, plain_stacked),
    "denoising-masking": Family(False, DenoisingAutoencoder, {}, plain_fit(lambda X: (
        deep_mlp(), reconstruction(corrupt=lambda x: x.masked_fill(torch.rand_like(x) < 0.3, 0.0))))),
    "denoising-gaussian": Family(False, Autoencoder, {"noise": "gaussian"}, plain_fit(lambda X: (
        deep_mlp(), reconstruction(corrupt=gaussian_noise(X))))),
    "vae": Family(False, VariationalAutoencoder, {}, plain_fit(lambda X: (
        nn.ModuleDict({"encoder": mlp(784, 512, 256, 32), "decoder": mlp(16, 256, 512, 784)}), elbo))),
    "gan": Family(False, GAN, {}, plain_gan),
}


def aekit_fit(family, X, epochs, batch_size, seed, **params):
    # a greedy schedule runs ``epochs`` of every phase, as the plain loop does
    schedule = {"pretrain_epochs": epochs} if family.estimator is StackedAutoencoder else {}
    return family.estimator(**{"scale": None, "validation_fraction": 0, "device": "cpu", **family.params,
                               **schedule, **params},
                            epochs=epochs, batch_size=batch_size, random_state=seed).fit(X)


def seeded_plain(family, X, epochs, batch_size, seed):
    torch.manual_seed(seed)
    return family.plain(X, epochs, batch_size)


# ---- measuring --------------------------------------------------------------------------------
def alternate(runs, epochs, repeats):
    """``runs``: name -> run(epochs, seed). A warm-up epoch each, then ``repeats`` rounds of ``epochs``
    whose order alternates; returns name -> (median seconds, the results of every round)."""
    for run in runs.values():
        run(1, 0)
    times, results = {name: [] for name in runs}, {name: [] for name in runs}
    for repeat in range(repeats):
        names = list(runs) if repeat % 2 == 0 else list(runs)[::-1]
        for name in names:
            start = time.perf_counter()
            results[name].append(runs[name](epochs, repeat))
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in runs}


def flops_per_sample(family, X, batch_size, rows=2048):
    """Matmul and convolution FLOPs of one plain epoch (a whole greedy schedule's), per row."""
    X = X[:rows]
    with FlopCounterMode(display=False) as counter:
        seeded_plain(family, X, 1, batch_size, 0)
    return counter.get_total_flops() / len(X)


def family_rows(names, X, epochs, repeats):
    print("| family | batch | aekit fit samples/s | aekit loop samples/s | plain samples/s | ratio fit (loop) | "
          "aekit GFLOP/s | % of fp32 peak |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        family = FAMILIES[name]
        for batch_size in BATCH_SIZES:
            measured = alternate({
                "aekit": lambda e, seed, family=family, batch_size=batch_size: aekit_fit(
                    family, X.numpy(), e, batch_size, seed),
                "plain": lambda e, seed, family=family, batch_size=batch_size: seeded_plain(
                    family, X, e, batch_size, seed),
            }, epochs, repeats)
            # the loop alone: the epochs' own times, without fit's set-up and final encoding
            loop_seconds = statistics.median(sum(r["time"] for r in est.history_) for est in measured["aekit"][1])
            rate = {k: epochs * len(X) / seconds for k, (seconds, _) in measured.items()}
            loop_rate = epochs * len(X) / loop_seconds
            gflops = rate["aekit"] * flops_per_sample(family, X, batch_size) / 1e9
            peak = matmul_peak_gflops()  # measured again by each row: other jobs come and go
            target = " (target 1.2x)" if family.deterministic else ""
            print(f"| {name} | {batch_size} | {rate['aekit']:,.0f} | {loop_rate:,.0f} | {rate['plain']:,.0f} | "
                  f"{rate['aekit'] / rate['plain']:.2f}x ({loop_rate / rate['plain']:.2f}x){target} | "
                  f"{gflops:.1f} | {100 * gflops / peak:.0f}% of {peak:.0f} |", flush=True)


def precision_row(epochs, repeats, batch_size=1024):
    """aekit in bf16-mixed and fp32 against the plain fp32 loop: speed and test loss."""
    train = torch.from_numpy(load("mnist5k", split="train").data)
    test = torch.from_numpy(load("mnist5k", split="test").data)
    family = FAMILIES["ae"]
    measured = alternate({
        "aekit bf16-mixed": lambda e, seed: aekit_fit(family, train.numpy(), e, batch_size, seed,
                                                      precision="bf16-mixed"),
        "aekit fp32": lambda e, seed: aekit_fit(family, train.numpy(), e, batch_size, seed),
        "plain fp32": lambda e, seed: seeded_plain(family, train, e, batch_size, seed),
    }, epochs, repeats)
    plain_seconds = measured["plain fp32"][0]
    print(f"\n{epochs} epochs of the 784-512-256-16 autoencoder on the 4,000 mnist5k training digits at batch "
          f"{batch_size}; test loss (squared error per image) on the 1,000 test digits, median of {repeats}")
    print("| run | samples/s | speed vs plain fp32 | test loss |")
    print("|---|---|---|---|")
    for name, (seconds, models) in measured.items():
        with torch.no_grad():
            losses = [-m.score(test.numpy()) if hasattr(m, "score") else reconstruction()(m, test).item()
                      for m in models]
        print(f"| {name} | {epochs * len(train) / seconds:,.0f} | {plain_seconds / seconds:.2f}x | "
              f"{statistics.median(losses):.2f} |")


# ---- where aekit's time goes ------------------------------------------------------------------
_MATMUL = {"aten::mm", "aten::addmm", "aten::bmm", "aten::mv", "aten::convolution"}
_CASTS = {"aten::_to_copy", "autograd::engine::evaluate_function: ToCopyBackward0"}


def _category(name):
    if name.startswith(("Optimizer.step", "Optimizer.zero_grad")):
        return "optimiser step and zero_grad"
    if name.startswith("autograd::engine::evaluate_function"):
        return "backward"
    if name in ("aten::randperm", "aten::index", "aten::slice", "aten::to"):
        return "data slicing (permutation, gather)"
    if name in ("aten::clone", "aten::detach", "aten::copy_"):
        return "loop bookkeeping (last-good weights)"
    return "forward (and loss sums)"


def profile_epoch(X, precision, batch_size=1024):
    """One epoch of aekit's Trainer on the fitted default autoencoder, grouped by what the time is for."""
    estimator = aekit_fit(FAMILIES["ae"], X.numpy(), 1, batch_size, 0, precision=precision)
    trainer = Trainer(estimator.model_, estimator._optimizers(estimator.model_), epochs=1, batch_size=batch_size,
                      generators={"shuffle": torch.Generator().manual_seed(0)}, precision=precision)
    trainer.fit(X)  # warm
    trainer.epoch = 0
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        trainer.fit(X)
    totals, matmul = {}, {}

    def walk(event, category):
        if event.name in _CASTS:
            totals["casts (autocast, both directions)"] = (totals.get("casts (autocast, both directions)", 0)
                                                           + event.cpu_time_total)
            totals[category] -= event.cpu_time_total
            return
        if event.name in _MATMUL:
            matmul[category] = matmul.get(category, 0) + event.cpu_time_total
            return
        for child in event.cpu_children:
            walk(child, category)

    for event in prof.events():
        if event.cpu_parent is None:
            category = "backward" if event.name in _CASTS else _category(event.name)
            totals[category] = totals.get(category, 0) + event.cpu_time_total
            walk(event, category)
    total = sum(totals.values())
    print(f"\nprofile of one aekit epoch, precision={precision}, batch {batch_size}, {len(X)} rows: "
          f"{total / 1e3:.0f} ms in operators")
    print("| part | ms | share | of which matrix products (ms) |")
    print("|---|---|---|---|")
    for category, us in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {category} | {us / 1e3:.1f} | {100 * us / total:.0f}% | {matmul.get(category, 0) / 1e3:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of: {', '.join(FAMILIES)}")
    parser.add_argument("--precision-epochs", type=int, default=20,
                        help="epochs of the bf16-mixed against fp32 comparison")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 2 repeats, 3 precision epochs: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.precision_epochs = 1, 2, 3
    names = args.families.split(",")
    unknown = set(names) - set(FAMILIES)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}")

    X = torch.from_numpy(load("mnist5k").data)
    peak = matmul_peak_gflops()
    print(f"machine: {describe()}", flush=True)
    # at 1024: without bf16 units a 2048x2048 bf16 product takes many seconds
    small = {dtype: matmul_peak_gflops(1024, dtype, repeats=3) for dtype in (torch.float32, torch.bfloat16)}
    print(f"matmul peak 2048x2048 fp32: {peak:.0f} GFLOP/s; 1024x1024: fp32 {small[torch.float32]:.0f}, "
          f"bf16 {small[torch.bfloat16]:.1f} GFLOP/s")
    print(f"{args.epochs} epochs x {len(X)} rows, median of {args.repeats} alternated runs\n")
    family_rows(names, X, args.epochs, args.repeats)
    precision_row(args.precision_epochs, args.repeats)
    for precision in ("32", "bf16-mixed"):
        profile_epoch(X, precision)


if __name__ == "__main__":
    main()
