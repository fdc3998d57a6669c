"""Semi-supervised learning against the strong simple baselines (issue 17, item 1): test error of the
default ``AutoencoderClassifier()`` with 100 and 1,000 labels, every other training row unlabelled,
beside a logistic regression and an MLP trained to convergence on the labelled rows alone.

Data
----
* digits: the 5,000 MNIST digits, ``load("mnist5k", split="train")`` (4,000 training rows) and
  ``split="test"`` (1,000 test rows).
* fashion: 10,000 rows of Fashion-MNIST's training set (``RandomState(0).choice``) and its 10,000 test
  rows (``--test-rows N`` takes a seeded subset when time is short).
* labels: ``mask_labels(y, n, random_state=draw)`` for draws 0, 1, 2 (10 per class at 100 labels).

Classifiers
-----------
* ``LogisticRegression(max_iter=5000)`` on the pixels of the labelled rows (converged).
* ``MLPClassifier((512,), max_iter=2000, random_state=draw)`` on them (converged: it stops on its
  tolerance); it is also the converged "from scratch" network.
* ``AutoencoderClassifier(random_state=draw)`` (``--routes rows``): its defaults for rows without an
  image shape (label spreading over a neighbour graph of every row, then one network trained on the
  labelled rows with virtual adversarial, entropy and spread-label terms on every row; see its
  docstring), on every training row.
* ``AutoencoderClassifier(image_shape=(1, 28, 28), random_state=draw)`` (``--routes images``, the
  default): its defaults for images (a pre-trained conv autoencoder's encoder trained FixMatch-style
  with the spread labels and a moving average of the weights).

The target is set against the better baseline: error <= 0.75x at 100 labels, <= 0.85x at 1,000.
``--validation`` scores on a stratified quarter of the training rows instead of the test rows (the
split every choice was made on); ``--set name=value`` sets a parameter of the aekit classifiers and
``--pretrain-epochs N`` the epochs of the image route's autoencoder (0: random weights);
``--all-fashion-rows`` gives the aekit classifiers the other 50,000 Fashion-MNIST training rows too,
unlabelled (the labelled rows and the scored rows stay as they are); ``--test-views 1 2 6`` scores each
fitted aekit classifier again with each of those ``test_views`` (predictions averaged over fixed views
of the images), a row each: the same fitted network, so the differences are exactly paired;
``--members K`` fits K - 1 more networks of each aekit route with the seeds of an ensemble
(``ensemble.member_seeds``) and scores the mean of the first 2, ..., K members' probabilities beside the
first alone (``[members=k]`` rows): the networks ``ensemble=k`` fits, so those rows are paired too.

Run: python bench/semisupervised.py [--data digits fashion] [--labels 100 1000] [--draws 3] [--test-rows N]
[--routes rows images] [--validation] [--set flip=False] [--test-views 1 2 6] [--members 2]
"""

import argparse
import ast
import os
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from _machine import describe
from aekit import Autoencoder, AutoencoderClassifier
from aekit.apps.classifier import mask_labels
from aekit.apps.classifier.ensemble import member_seeds
from aekit.apps.classifier.estimator import IMAGE_AUTOENCODER
from aekit.datasets import load
from semisup_routes import dataset as fashion_rows

TARGETS = {100: 0.75, 1000: 0.85}
BASELINES = {
    "LR on pixels (labelled only)": lambda draw: LogisticRegression(max_iter=5000),
    "MLP (512,) (labelled only)": lambda draw: MLPClassifier((512,), max_iter=2000, random_state=draw),
}
ROUTES = {"rows": "AutoencoderClassifier()", "images": "AutoencoderClassifier(image_shape)"}


def classifiers(routes, params, pretrain_epochs):
    """{name: draw -> unfitted classifier}: the baselines, then the aekit routes asked for."""
    out = dict(BASELINES)
    if "rows" in routes:
        out[ROUTES["rows"]] = lambda draw: AutoencoderClassifier(random_state=draw, device="cpu", **params)
    if "images" in routes:
        given = {} if pretrain_epochs is None else {
            "autoencoder": Autoencoder(**{**IMAGE_AUTOENCODER, "epochs": pretrain_epochs})}
        out[ROUTES["images"]] = lambda draw: AutoencoderClassifier(image_shape=(1, 28, 28), random_state=draw,
                                                                   device="cpu", **given, **params)
    return out


def dataset(name, test_rows, validation=False):
    """(X, y, X_test, y_test), rows as float32; Fashion-MNIST's rows as in bench/semisup_routes.py;
    ``validation``: a stratified quarter of the training rows instead of the test rows."""
    if name == "fashion":
        return fashion_rows("fashion", test_rows, validation=validation)
    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    X, y, X_test, y_test = train.data.astype(np.float32), train.target, test.data.astype(np.float32), test.target
    if validation:
        X, X_test, y, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=1)
    return X, y, X_test, y_test


def other_fashion_rows():
    """The 50,000 Fashion-MNIST training rows that ``dataset("fashion", ...)`` leaves out, float32."""
    train = load("fashion-mnist", split="train")
    chosen = np.random.RandomState(0).choice(len(train.data), 10000, replace=False)
    return np.delete(train.data, chosen, axis=0).astype(np.float32)


def errors(X, y, X_test, y_test, n_labels, draws, models, extra=None, test_views=(), members=1):
    """{classifier: (test errors per draw, seconds per draw)} over the label ``draws`` (seeds);
    baselines see the labelled rows only; the aekit classifiers also the unlabelled rows ``extra``,
    and each is scored again with each of ``test_views`` (rows "name [test_views=k]") and as the
    first k of ``members`` networks (rows "name [members=k]", the seconds those k took)."""
    out = {name: ([], []) for name in models}
    out.update({f"{name} [test_views={k}]": ([], []) for name in models if name not in BASELINES for k in test_views})
    out.update({f"{name} [members={k}]": ([], []) for name in models if name not in BASELINES
                for k in range(2, members + 1)})
    for draw in draws:
        y_masked = mask_labels(y, n_labels, random_state=draw)
        labelled = y_masked != -1
        X_all, y_all = X, y_masked
        if extra is not None:
            X_all, y_all = np.concatenate([X, extra]), np.concatenate([y_masked, np.full(len(extra), -1)])
        for name, make in models.items():
            start = time.perf_counter()
            model = make(draw)
            model.fit(*((X[labelled], y_masked[labelled]) if name in BASELINES else (X_all, y_all)))
            out[name][1].append(time.perf_counter() - start)
            out[name][0].append(1 - model.score(X_test, y_test))
            print(f"  draw {draw}: {name} {out[name][0][-1]:.3f} ({out[name][1][-1]:.0f} s)", flush=True)
            for k in test_views if name not in BASELINES else ():
                errs, seconds = out[f"{name} [test_views={k}]"]
                seconds.append(out[name][1][-1])
                errs.append(1 - model.set_params(test_views=k).score(X_test, y_test))
                print(f"  draw {draw}: {name} [test_views={k}] {errs[-1]:.3f}", flush=True)
            if name not in BASELINES and members > 1:
                ensemble_errors(model, make, member_seeds(draw, members), (X_all, y_all), (X_test, y_test),
                                out, name, draw)
    return {name: (np.array(e), np.array(t)) for name, (e, t) in out.items()}


def ensemble_errors(first, make, seeds, data, test, out, name, draw):
    """Fit the members after ``first`` (``make(seed)`` for the other ``seeds``) on ``data`` and append to
    ``out["name [members=k]"]`` the test error of the mean probabilities of the first k, and their seconds."""
    X_test, y_test = test
    total, seconds = first.predict_proba(X_test), out[name][1][-1]
    for k, seed in enumerate(seeds[1:], start=2):
        start = time.perf_counter()
        member = make(seed).fit(*data)
        seconds += time.perf_counter() - start
        proba = member.predict_proba(X_test)
        total += proba
        errs, times = out[f"{name} [members={k}]"]
        errs.append(np.mean(first.classes_[total.argmax(1)] != y_test))
        times.append(seconds)
        print(f"  draw {draw}: {name} member {k} alone {np.mean(member.classes_[proba.argmax(1)] != y_test):.3f}, "
              f"[members={k}] {errs[-1]:.3f} ({seconds:.0f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits", "fashion"], choices=["digits", "fashion"])
    parser.add_argument("--labels", nargs="+", type=int, default=[100, 1000])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--first-draw", type=int, default=0, help="draws first-draw, ..., first-draw + draws - 1 "
                        "(to run draws in parallel processes)")
    parser.add_argument("--test-rows", type=int, default=10000, help="Fashion-MNIST test rows")
    parser.add_argument("--routes", nargs="+", default=["images"], choices=list(ROUTES))
    parser.add_argument("--validation", action="store_true", help="score on a quarter of the training rows")
    parser.add_argument("--set", nargs="*", default=[], help="name=value parameters of the aekit classifiers")
    parser.add_argument("--pretrain-epochs", type=int, help="epochs of the image route's conv autoencoder")
    parser.add_argument("--all-fashion-rows", action="store_true",
                        help="Fashion-MNIST: the other 50,000 training rows as more unlabelled rows")
    parser.add_argument("--test-views", nargs="*", type=int, default=[],
                        help="also score each fitted aekit classifier with these test_views")
    parser.add_argument("--members", type=int, default=1,
                        help="also score ensembles of the first 2, ..., K networks (ensemble.member_seeds)")
    args = parser.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (pair.split("=", 1) for pair in args.set)}
    models = classifiers(args.routes, params, args.pretrain_epochs)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    start = time.perf_counter()
    print(f"machine: {describe()}\n{vars(args)}")
    print(f"test error, mean +- std over {args.draws} label draws; ratio to the better baseline")
    met = []
    for name in args.data:
        X, y, X_test, y_test = dataset(name, args.test_rows, args.validation)
        for n_labels in args.labels:
            target = TARGETS.get(n_labels, 0.75)
            print(f"\n{name}: {n_labels} labels, {len(X) - n_labels} unlabelled training rows, {len(X_test)} "
                  f"{'validation' if args.validation else 'test'} rows; target <= {target}x the better baseline")
            print(f"{'classifier':56s} {'error':>15s} {'ratio':>6s} {'s/draw':>7s}")
            draws = range(args.first_draw, args.first_draw + args.draws)
            extra = other_fashion_rows() if name == "fashion" and args.all_fashion_rows else None
            result = errors(X, y, X_test, y_test, n_labels, draws, models, extra, args.test_views,
                            args.members)
            baseline = min(result[k][0].mean() for k in BASELINES)
            for label, (errs, seconds) in result.items():
                print(f"{label:56s} {errs.mean():6.3f} +- {errs.std():.3f} {errs.mean() / baseline:6.2f} "
                      f"{seconds.mean():7.1f}", flush=True)
            for route in args.routes:
                ratio = result[ROUTES[route]][0].mean() / baseline
                met.append(ratio <= target)
                print(f"{ROUTES[route]} at {ratio:.2f}x: target {'met' if met[-1] else 'NOT met'}")
    print(f"\nall targets {'met' if all(met) else 'NOT met'}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
