# Copyright (c) mmookd authors. All rights reserved.
"""Frame loading that names the video and frame of a file it cannot read."""
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadVISFrame(LoadImageFromFile):
    """``LoadImageFromFile`` for video frames, with errors that say where.

    Behaves exactly as mmcv's ``LoadImageFromFile`` (same arguments; with
    the default ``color_type='color'`` grayscale and RGBA frames load as
    3-channel BGR), but a frame that is missing, empty or cannot be decoded
    raises an error naming the path, the video id and the frame index.

    Required Keys:

    - img_path
    - video_id (optional, for the message)
    - frame_id (optional, for the message)

    Modified Keys:

    - img: (H, W, 3) uint8 BGR (float32 if ``to_float32``)
    - img_shape: (H, W)
    - ori_shape: (H, W)

    The decoded frame must have the size the annotation file gives its
    video (``height`` and ``width`` of the frame's data dict, when present):
    masks and boxes are in that size, and a frame of another size would
    otherwise fail deep inside a transform (training) or be scored against
    masks of another size (testing).

    Raises:
        FileNotFoundError: The frame file does not exist.
        OSError: The frame file cannot be read or decoded.
        ValueError: The frame's size differs from the annotation file's.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load one frame.

        Args:
            results (dict): One frame's data dict.

        Returns:
            dict | None: ``results`` with the image; None if the frame is
            unreadable and ``ignore_empty=True``.
        """
        try:
            out = super().transform(results)
            if out is not None and out.get('img') is None:
                raise OSError('the image could not be decoded')
        except Exception as err:
            if self.ignore_empty:
                return None
            where = (f"frame file {results.get('img_path')!r} (video id "
                     f"{results.get('video_id')}, frame "
                     f"{results.get('frame_id')})")
            if isinstance(err, FileNotFoundError):
                raise FileNotFoundError(f'Missing {where}.') from err
            raise OSError(f'Cannot read {where}: {type(err).__name__}: '
                          f'{err}') from err
        if out is not None:
            self._check_size(out)
        return out

    @staticmethod
    def _check_size(results: dict) -> None:
        """Raise if the frame's size is not the JSON's ``height, width``."""
        height, width = results.get('height'), results.get('width')
        if height is None or width is None:
            return
        shape = tuple(results['img'].shape[:2])
        if shape != (height, width):
            raise ValueError(
                f"frame file {results.get('img_path')!r} (video id "
                f"{results.get('video_id')}, frame {results.get('frame_id')})"
                f' is {shape[0]}x{shape[1]} (height x width) but the '
                f'annotation file gives its video {height}x{width}; masks '
                'and boxes are in that size. Fix the frame or the '
                "video's height/width in the JSON.")
