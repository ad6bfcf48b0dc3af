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

    Raises:
        FileNotFoundError: The frame file does not exist.
        OSError: The frame file cannot be read or decoded.
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
        return out
