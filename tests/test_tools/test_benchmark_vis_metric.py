# Copyright (c) mmookd authors. All rights reserved.
"""tools/analysis_tools/benchmark_vis_metric.py on a tiny input."""
import json

import numpy as np

from mmookd.testing import load_tool


def test_benchmark_times_both_metrics_and_prints_json(capsys):
    module = load_tool('tools/analysis_tools/benchmark_vis_metric.py')
    res = module.main([
        '--videos', '3', '--frames', '4', '--height', '40', '--width', '60',
        '--gts', '3', '--preds', '5', '--json'
    ])
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1]) == json.loads(json.dumps(res))
    names = [r['name'] for r in res['rows']]
    assert names == [
        'mmdet YouTubeVISMetric', 'VISMetric', 'VISMetric +track +occlusion'
    ]
    # same protocol: mmdet's and mmookd's AP agree on the same input
    maps = [r['mAP'] for r in res['rows']]
    assert maps[0] == maps[1] == maps[2] and 0 < maps[0] < 1
    assert 0 <= res['rows'][2]['HOTA'] <= 1
    assert res['ratio'] == res['rows'][0]['total_s'] / res['rows'][1][
        'total_s'] > 0
    assert any(line.startswith('ratio (mmdet total') for line in out)
    # the np.float alias for mmdet's code does not outlive the benchmark
    assert not hasattr(np, 'float')
