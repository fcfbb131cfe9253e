#!/usr/bin/python3
"""bench/monitor/where.py - where a detector's NAB points go.

For the result files of one detector (RESULTS/<detector>/<category>/
<detector>_<file>.csv, as `guichet monitor nab DATA OUT` writes them) and
a threshold (by default the standard profile's optimised one, computed by
bench/nab_score on the same files), prints every labelled window: found
or MISS, where in the window the first detection falls (0 = its first
row, 1 = its last), its best score and the best score in the 100 rows
before it (a detection just before a window holds off the points inside
it); then each file's false positives (rows at or above the threshold
outside every window, after the probationary 15 %) and the totals.

    bench/monitor/where.py RESULTS_DIR [--data ../shared/data/nab]
                           [--detector guichet] [--threshold T]
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os


def load_scorer():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, '..', 'nab_score', 'nab_score')
    loader = importlib.machinery.SourceFileLoader('nab_score', path)
    spec = importlib.util.spec_from_loader('nab_score', loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description='NAB windows and false '
                                 'positives of one detector')
    ap.add_argument('results')
    ap.add_argument('--data', default='../shared/data/nab')
    ap.add_argument('--detector', default='guichet')
    ap.add_argument('--threshold', type=float)
    a = ap.parse_args()
    ns = load_scorer()
    with open(os.path.join(a.data, 'labels', 'combined_windows.json')) as f:
        windows = json.load(f)
    with open(os.path.join(a.data, 'profiles.json')) as f:
        cm = json.load(f)['standard']['CostMatrix']
    files = []
    for rel in sorted(windows):
        cat, fname = rel.split('/')
        if not os.path.exists(os.path.join(a.data, 'data', cat, fname)):
            continue
        res = os.path.join(a.results, a.detector, cat,
                           '%s_%s' % (a.detector, fname))
        ts, scores = ns.read_series(res)
        rows, _ = ns.row_weights(ts, windows[rel], rel)
        files.append({'name': rel, 'ts': ts, 'rows': rows,
                      'scores': scores})
    thr = a.threshold
    if thr is None:
        thr, _ = ns.corpus_sweep(files, cm)
    print('threshold %.4f' % thr)
    found = total = fps = 0
    for f in files:
        idx = {t: i for i, t in enumerate(f['ts'])}
        sc = f['scores']
        for w0, w1 in windows[f['name']]:
            i, j = idx[ns.norm_ts(w0)], idx[ns.norm_ts(w1)]
            first = next((k for k in range(i, j + 1) if sc[k] >= thr), None)
            pre = max(sc[max(0, i - 100):i], default=0.0)
            total += 1
            found += first is not None
            print('%-48s rows %5d-%5d  %s  max %.3f  before %.3f' % (
                f['name'].split('/')[1][:48], i, j,
                'MISS     ' if first is None else
                'at %.2f  ' % ((first - i) / float(j - i + 1)),
                max(sc[i:j + 1]), pre))
    print()
    for f in files:
        n = sum(1 for (key, _, _), s in zip(f['rows'], f['scores'])
                if key is None and s >= thr)
        fps += n
        if n:
            print('%-60s %3d false positives' % (f['name'], n))
    print('\nwindows found %d of %d, false positives %d' % (found, total,
                                                            fps))


if __name__ == '__main__':
    main()
