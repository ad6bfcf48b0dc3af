# Copyright (c) mmookd authors. All rights reserved.
"""Run a VIS model on a video and write it back with the tracks drawn.

Examples::

    # a video file
    python demo/video_demo.py configs/idol/idol_r18-w32_1xb4-2k_synthvis.py \
        work_dirs/ookd_pipeline/synthvis/ookd/iter_2000.pth my_video.mp4 \
        --out outputs/my_video_tracks.mp4
    # a folder of frames, on a GPU, PNG frames too
    python demo/video_demo.py CONFIG CHECKPOINT path/to/frame_folder \
        --out out.mp4 --device cuda:0 --frames-out out_frames/

Masks, track ids, class names and scores are drawn with mmdet's
``TrackLocalVisualizer``. Frames are read, tracked, drawn and written one at
a time (constant memory). The frame rate of the model and of the whole loop
is printed at the end.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Track the instances of a video and draw them')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'input', help='a video file (mp4, avi, ...) or a folder of frames')
    parser.add_argument('--out', required=True, help='output video (.mp4)')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='draw only tracks scoring above this (default 0.3)')
    parser.add_argument(
        '--device', default='cpu', help='cpu, cuda or cuda:0 (default cpu)')
    parser.add_argument(
        '--frames-out', help='also write every drawn frame as PNG here')
    parser.add_argument(
        '--fps',
        type=float,
        help='frame rate of the output (default: the input\'s, else 10)')
    parser.add_argument(
        '--min-size',
        type=int,
        default=360,
        help='enlarge smaller frames for drawing so that the short side is '
        'at least this (0: never; default 360)')
    parser.add_argument(
        '--max-frames', type=int, help='stop after this many frames')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='fully unpickle the checkpoint (only for a file you trust)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.tracker.max_tracks=20')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmookd.apis import VideoInputError, VISInferencer, render_video
    try:
        inferencer = VISInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            score_thr=args.score_thr,
            cfg_options=args.cfg_options,
            trust_checkpoint=args.trust_checkpoint)
        return render_video(
            inferencer,
            args.input,
            out=args.out,
            frames_out=args.frames_out,
            fps=args.fps,
            min_size=args.min_size,
            max_frames=args.max_frames)
    except (VideoInputError, FileNotFoundError) as err:
        sys.exit(f'video_demo: {err}')


if __name__ == '__main__':
    main()
