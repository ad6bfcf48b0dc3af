# Copyright (c) mmookd authors. All rights reserved.
"""tools/demo.py writes the pipeline's table beside its figures."""
import json

from mmookd.testing import load_tool


def _demo():
    return load_tool('tools/demo.py', 'mmookd_demo')


def test_table_is_written_as_markdown_and_json(tmp_path, capsys):
    summary = dict(
        target='synthvis',
        rows=[
            dict(method='IDOL', AP=7.5, mAP_L=5.6, AssA_L=None),
            dict(method='OOKD', AP=8.1, mAP_L=6.0, AssA_L=30.2),
        ])
    results = tmp_path / 'results.json'
    results.write_text(json.dumps(summary))
    out = tmp_path / 'out'
    out.mkdir()
    _demo().write_table(str(results), str(out))
    lines = (out / 'ookd_results.md').read_text().splitlines()
    assert lines[2] == '| method | AP | mAP_L | AssA_L |'
    assert lines[4] == '| IDOL | 7.5 | 5.6 | - |'
    assert lines[5] == '| OOKD | 8.1 | 6.0 | 30.2 |'
    assert json.loads((out / 'ookd_results.json').read_text()) == summary
    # no pipeline results: nothing written, and it says so
    _demo().write_table(str(tmp_path / 'missing.json'), str(out / 'x'))
    assert 'no pipeline results' in capsys.readouterr().out
