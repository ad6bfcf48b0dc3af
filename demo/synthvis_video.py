# Copyright (c) mmookd authors. All rights reserved.
"""Render a long SynthVIS validation video with a trained model's tracks.

The last step of ``make demo``: the longest video of the long validation
split (``annotations/synthvis_val_long.json``) goes through
:class:`mmookd.apis.VISInferencer`, and the drawn video is written to
``OUT/synthvis_<video name>_tracks.mp4`` with a few frames as PNG beside it
(``OUT/synthvis_<video name>_frame<k>.png``, for the README).

Example::

    python demo/synthvis_video.py \
        configs/idol/idol_r18-w32_1xb4-2k_synthvis.py \
        work_dirs/ookd_pipeline/synthvis/ookd/iter_2000.pth \
        --data data/synthvis --out outputs/demo
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
from typing import Dict, Optional, Sequence


def pick_long_video(data_root: str,
                    ann_file: str = 'annotations/synthvis_val_long.json',
                    video_name: Optional[str] = None) -> Dict:
    """The longest video of a SynthVIS split (or the one named).

    Args:
        data_root (str): SynthVIS root (``annotations/``, ``val/``).
        ann_file (str): Split file, relative to ``data_root``.
        video_name (str, optional): Folder name of the video to take.

    Returns:
        dict: ``name``, ``folder`` (its frames), ``length``, ``id``.

    Raises:
        FileNotFoundError: The split file or the frame folder is missing.
        KeyError: ``video_name`` is not in the split.
    """
    path = osp.join(data_root, ann_file)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: generate SynthVIS first '
            '(python tools/dataset_converters/make_synthvis.py --out '
            f'{data_root})')
    with open(path) as f:
        videos = json.load(f)['videos']
    if not videos:
        raise KeyError(f'{path} lists no video')
    if video_name is not None:
        chosen = [
            v for v in videos
            if osp.dirname(v['file_names'][0]) == video_name
        ]
        if not chosen:
            raise KeyError(f'video {video_name!r} is not in {path}')
        video = chosen[0]
    else:
        video = max(videos, key=lambda v: (len(v['file_names']), -v['id']))
    name = osp.dirname(video['file_names'][0])
    folder = osp.join(data_root, 'val', 'JPEGImages', name)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'frames of video {name} not found in '
                                f'{folder}')
    return dict(
        name=name, folder=folder, length=len(video['file_names']),
        id=video['id'])


def png_frame_ids(length: int, num: int) -> Sequence[int]:
    """``num`` frame indices spread over a video (first and last included).

    Example:
        ``png_frame_ids(40, 4)`` is ``[0, 13, 26, 39]``.
    """
    if num <= 0:
        return []
    if num == 1 or length == 1:
        return [0]
    step = (length - 1) / (num - 1)
    return sorted({int(round(i * step)) for i in range(num)})


def render_synthvis_video(config: str,
                          checkpoint: str,
                          data_root: str = 'data/synthvis',
                          out_dir: str = 'outputs/demo',
                          num_pngs: int = 4,
                          video_name: Optional[str] = None,
                          score_thr: float = 0.3,
                          min_size: int = 384,
                          fps: float = 6.0,
                          device: str = 'cpu',
                          log=print) -> Dict:
    """Draw a model's tracks on the longest long-split validation video.

    Args:
        config (str): Model config (the IDOL config serves the OOKD
            student's checkpoint too).
        checkpoint (str): Trained weights.
        data_root (str): SynthVIS root.
        out_dir (str): Output folder.
        num_pngs (int): Frames also written as PNG. Defaults to 4.
        video_name (str, optional): Another video of the long split.
        score_thr (float): Draw tracks scoring above this.
        min_size (int): Enlarge the 128 px frames to this short side.
        fps (float): Frame rate of the mp4.
        device (str): Device.
        log (callable): Where messages go.

    Returns:
        dict: :func:`mmookd.apis.render_video`'s figures plus ``video``
        (name), ``pngs`` (paths) and ``out`` (the mp4).
    """
    from mmookd.apis import VISInferencer, render_video
    video = pick_long_video(data_root, video_name=video_name)
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.join(out_dir, f'synthvis_{video["name"]}')
    out = f'{stem}_tracks.mp4'
    log(f'rendering SynthVIS validation video {video["name"]} '
        f'({video["length"]} frames) -> {out}')
    inferencer = VISInferencer(
        config, checkpoint, device=device, score_thr=score_thr)
    wanted = png_frame_ids(video['length'], num_pngs)
    tmp = tempfile.mkdtemp(prefix='synthvis_frames_')
    try:
        stats = render_video(
            inferencer,
            video['folder'],
            out=out,
            frames_out=tmp,
            frames_out_ids=wanted,
            fps=fps,
            min_size=min_size,
            log=log)
        pngs = []
        for path in stats['frames_out']:
            frame_id = int(osp.splitext(osp.basename(path))[0])
            target = f'{stem}_frame{frame_id:03d}.png'
            shutil.move(path, target)
            pngs.append(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stats.update(video=video['name'], pngs=pngs, out=out, frames_out=pngs)
    return stats


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the tracks of a model on a long SynthVIS '
        'validation video')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='trained checkpoint')
    parser.add_argument('--data', default='data/synthvis')
    parser.add_argument('--out', default='outputs/demo')
    parser.add_argument('--video', help='video folder name (default: the '
                        'longest of the long split)')
    parser.add_argument('--num-pngs', type=int, default=4)
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--min-size', type=int, default=384)
    parser.add_argument('--fps', type=float, default=6.0)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    try:
        return render_synthvis_video(
            args.config,
            args.checkpoint,
            data_root=args.data,
            out_dir=args.out,
            num_pngs=args.num_pngs,
            video_name=args.video,
            score_thr=args.score_thr,
            min_size=args.min_size,
            fps=args.fps,
            device=args.device)
    except (FileNotFoundError, KeyError) as err:
        sys.exit(f'synthvis_video: {err}')


if __name__ == '__main__':
    main()
