#!/usr/bin/python3
"""Active-learning strategies explored in scikit-learn on eval:al's cached embeddings.

A fast second opinion on `npm run eval:al` (docs/active-learning.md, "Exploring strategies in
scikit-learn"): the same pools, validation and test splits, budgets and learner (StandardScaler +
LogisticRegression(lbfgs), C from 0.01…100 chosen on validation by quadratic kappa or ROC AUC), with
numpy's own seeds, so its draws are independent of eval:al's. Run eval:al once first: it writes the
embeddings to test-output/eval/al-cache/.

  /usr/bin/python3 bench/reference/al_explore.py --dataset pneumonia --seeds 30 \
      --strategies random,mixed,mixed_influence,mixed_influence_margin,mix:0.25:0.25:gradevar [--class-weight balanced] \
      [--features pca | --features checkpoint:test-output/eval/backbones/simclr-s0-e60.safetensors]

`--features pca` replaces the stand-in backbone's embeddings by the first 64 principal components of the raw
pixels (fitted on the pool): another, independent representation, to ask whether the backbone is what limits
active learning on these sets. `--features checkpoint:FILE` embeds with a checkpoint of bench/reference/ssl_backbone.py
(the self-supervised stand-in; `npm run eval:al -- --backbone FILE` uses the same one through MedTune).

`mix:R:I:U` is a batch of which a share R is random, a share I by validation influence and the rest by the measure U
spread over the predicted classes (U = margin, or gradevar: the variance of the grade under the predicted
distribution, MedTune's measure for ordinal tasks; for two classes it ranks as margin). MedTune's default `mixed` is
mix:0.5:0.25:gradevar on an ordinal task and mix:0.5:0.25:margin (= mixed_influence_margin) otherwise; before grade
variance it was mix:0.5:0.25:margin on every task.

Prints, per strategy: the area under the mean learning curve, the labels needed to reach random's final
value (linear between budgets), how many budgets are at or above random, and the gap to random per budget.
"""
import argparse
import base64
import json
import os
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings('ignore')
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
MEDMNIST = os.environ.get('MEDTUNE_SHARED', os.path.join(ROOT, '..', 'shared')) + '/data/medmnist/'
CACHE = os.path.join(ROOT, 'test-output', 'eval', 'al-cache')
SETS = {
    'retina': ('retinamnist.npz', 'retina-from-pneumonia-e6.json', 5, 'kappa'),
    'breast': ('breastmnist_resaved.npz', 'breast-from-pneumonia-e6.json', 2, 'auc'),
    'pneumonia': ('pneumoniamnist_reduced_train.npz', 'pneumonia-from-retina-e6.json', 2, 'auc'),
}
BUDGETS = [20, 50, 100, 150, 200, 300, 500]


def load(name, features='backbone'):
    npz, cache, k, metric = SETS[name]
    d = np.load(MEDMNIST + npz)
    out = {}
    if features.startswith('checkpoint:'):
        embedded = checkpoint_features(features[len('checkpoint:'):], d)
    elif features == 'pca':
        pixels = {s: d[s + '_images'].reshape(len(d[s + '_images']), -1).astype(np.float64) / 255 for s in ['train', 'val', 'test']}
        pca = PCA(64, random_state=0).fit(pixels['train'])
        embedded = {s: pca.transform(pixels[s]) for s in pixels}
    else:
        e = json.load(open(os.path.join(CACHE, cache)))
        embedded = {s: np.frombuffer(base64.b64decode(e[s]), dtype=np.float32).reshape(-1, 64).astype(np.float64) for s in ['train', 'val', 'test']}
    for s in ['train', 'val', 'test']:
        out[s] = (embedded[s], d[s + '_labels'].ravel().astype(int))
    return out, k, metric


def checkpoint_features(path, d):
    """Class-token features of each split from a ssl_backbone.py checkpoint (scaled as MedTune's stand-in scales)."""
    import torch
    from ssl_backbone import ViT
    from vit_adapters import read_safetensors
    model = ViT()
    model.load_state_dict(read_safetensors(path)[0])
    model.eval()
    out = {}
    for s in ['train', 'val', 'test']:
        x = d[s + '_images']
        x = np.repeat(x[..., None], 3, -1) if x.ndim == 3 else x
        with torch.no_grad():
            out[s] = model(torch.tensor(x).permute(0, 3, 1, 2).float() / 255 * 2 - 1).double().numpy()
    return out


def score(metric, k, p, y):
    if metric == 'kappa':
        return cohen_kappa_score(y, p.argmax(1), weights='quadratic', labels=list(range(k)))
    return roc_auc_score(y, p[:, 1]) if len(set(y)) > 1 else float('nan')


def proba(model, x, k):
    clf, sc = model
    p = np.zeros((len(x), k))
    p[:, clf.classes_] = clf.predict_proba(sc.transform(x))
    return p


def fit(x, y, val, k, metric, class_weight):
    if len(set(y)) < 2:
        return None
    sc = StandardScaler().fit(x)
    best = None
    for C in [0.01, 0.1, 1, 10, 100]:
        clf = LogisticRegression(C=C, max_iter=2000, class_weight=class_weight).fit(sc.transform(x), y)
        v = score(metric, k, proba((clf, sc), val[0], k), val[1])
        if best is None or (np.isfinite(v) and v > best[0] + 1e-12):
            best = (v, (clf, sc))
    return best[1]


def margins(p):
    s = np.sort(p, 1)
    return 1 - (s[:, -1] - s[:, -2])


def grade_variance(p):
    g = np.arange(p.shape[1])
    return (p * g ** 2).sum(1) - (p * g).sum(1) ** 2


def round_robin(pred, order_score, candidates, count, k):
    """Most uncertain first within each predicted class, one class after the other (MedTune's mix.ts)."""
    queues = [[i for i in candidates[np.argsort(-order_score[candidates], kind='stable')] if pred[i] == j] for j in range(k)]
    out, pos = [], [0] * k
    while len(out) < count and any(pos[j] < len(queues[j]) for j in range(k)):
        for j in range(k):
            if len(out) < count and pos[j] < len(queues[j]):
                out.append(queues[j][pos[j]])
                pos[j] += 1
    return out


def influence(c):
    """Expected fall of the summed validation loss if each candidate were labelled (core/active/influence.ts)."""
    clf, sc = c['model']
    k = c['k']

    def aug(x):
        z = sc.transform(x)
        return np.hstack([z, np.ones((len(z), 1))])

    zl, zu, zv = aug(c['X'][c['lab']]), aug(c['X'][c['un']]), aug(c['val'][0])
    yl, yv = c['y_lab'], c['val'][1]
    counts = np.bincount(yl, minlength=k).astype(float)
    present = (counts > 0).sum()
    w = np.where(counts > 0, len(yl) / (present * np.maximum(counts, 1)), 0) if c['class_weight'] else np.ones(k)
    w[counts == 0] = w.max()
    pl, pv, pu = proba(c['model'], c['X'][c['lab']], k), proba(c['model'], c['val'][0], k), proba(c['model'], c['X'][c['un']], k)
    d1 = zl.shape[1]
    ridge = (2 if k == 2 else 1) / clf.C  # a binary head as MedTune stores it: ±w/2
    h = np.zeros((k * d1, k * d1))
    for i in range(len(zl)):
        a = np.diag(pl[i]) - np.outer(pl[i], pl[i])
        h += w[yl[i]] * np.kron(a, np.outer(zl[i], zl[i]))
    h += np.eye(k * d1) * ridge
    for j in range(k):
        h[j * d1 + d1 - 1, j * d1 + d1 - 1] += 1e-8 - ridge  # the bias is not penalised
    e = pv.copy()
    e[np.arange(len(yv)), yv] -= 1
    g = (e[:, :, None] * zv[:, None, :]).reshape(len(zv), -1).sum(0)
    v = np.linalg.lstsq(h, g, rcond=None)[0].reshape(k, d1)
    u = zu @ v.T
    pu_u = (pu * u).sum(1)
    return sum(pu[:, y] * np.maximum(0, w[y] * (pu_u - u[:, y])) for y in range(k))


def strategy(name):
    def pick(c):
        n, need, rng = len(c['un']), c['need'], c['rng']
        if c['P'] is None or name == 'random':
            return list(rng.choice(n, need, replace=False))
        if name.startswith('mix:'):
            r, i, measure = name.split(':')[1:]
            shares, uncertainty = (float(r), float(i)), {'margin': margins, 'gradevar': grade_variance}[measure]
        else:
            shares = {'mixed': (0.5, 0.0), 'mixed_influence': (0.5, 0.5), 'mixed_influence_margin': (0.5, 0.25), 'margin_per_class': (0.0, 0.0)}[name]
            uncertainty = margins
        n_random, n_infl = round(shares[0] * need), round(shares[1] * need)
        out = list(rng.choice(n, n_random, replace=False)) if n_random else []
        taken = np.zeros(n, bool)
        taken[out] = True
        if n_infl:
            s = influence(c)
            s[taken] = -np.inf
            best = list(np.argsort(-s, kind='stable')[:n_infl])
            out += best
            taken[best] = True
        rest = np.where(~taken)[0]
        out += round_robin(c['P'].argmax(1), uncertainty(c['P']), rest, need - len(out), c['k'])
        return out

    return pick


def simulate(name, pick, seeds, class_weight, features):
    data, k, metric = load(name, features)
    x, y = data['train']
    curves = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        lab = list(rng.choice(len(y), BUDGETS[0], replace=False))
        model, curve = None, []
        for r, b in enumerate(BUDGETS):
            if r > 0:
                mask = np.ones(len(y), bool)
                mask[lab] = False
                un = np.where(mask)[0]
                c = dict(X=x, un=un, lab=np.array(lab), y_lab=y[lab], k=k, rng=rng, need=b - len(lab), model=model,
                         P=proba(model, x[un], k) if model else None, val=data['val'], class_weight=class_weight)
                lab += list(un[pick(c)])
            model = fit(x[lab], y[lab], data['val'], k, metric, class_weight)
            curve.append(score(metric, k, proba(model, data['test'][0], k), data['test'][1]) if model else float('nan'))
        curves.append(curve)
    return np.array(curves)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dataset', choices=list(SETS), required=True)
    ap.add_argument('--seeds', type=int, default=10)
    ap.add_argument('--strategies', default='random,mixed,mixed_influence_margin')
    ap.add_argument('--class-weight', choices=['none', 'balanced'], default='balanced')
    ap.add_argument('--features', default='backbone', help="backbone (eval:al's cached stand-in embeddings), pca, or checkpoint:FILE")
    a = ap.parse_args()
    cw = None if a.class_weight == 'none' else 'balanced'
    names = ['random'] + [s for s in a.strategies.split(',') if s != 'random']
    res = {s: simulate(a.dataset, strategy(s), a.seeds, cw, a.features) for s in names}
    base = np.nanmean(res['random'], 0)
    target = base[-1]
    print('random mean curve', ' '.join(f'{v:.3f}' for v in base), f'(sd at {BUDGETS[-1]}: {np.nanstd(res["random"][:, -1]):.3f})')
    print(f'{a.dataset}: {a.seeds} seeds, class weight {a.class_weight}, features {a.features}; random final {target:.3f}')
    for s, cv in res.items():
        mc = np.nanmean(cv, 0)
        area = np.nanmean([np.trapz(c, BUDGETS) / (BUDGETS[-1] - BUDGETS[0]) for c in cv])
        reach = next((BUDGETS[0] if i == 0 else BUDGETS[i - 1] + (target - mc[i - 1]) / (mc[i] - mc[i - 1]) * (BUDGETS[i] - BUDGETS[i - 1])
                      for i in range(len(mc)) if mc[i] >= target), None)
        print(f'{s:24s} AULC {area:.3f}  reach {("%.0f" % reach) if reach else "> 500":>6s}  at/above random {int((mc >= base - 1e-12).sum())}/7  '
              + ' '.join(f'{d:+.3f}' for d in mc - base))


if __name__ == '__main__':
    main()
