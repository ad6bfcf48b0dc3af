# Copyright (c) mmookd authors. All rights reserved.
"""Frame sampling for OOKD's live teacher (paper Sec. 3.2/3.3, stage 3).

The student trains on IDOL's key/reference pair while the offline teacher
looks at the whole video (or a window of it). :class:`OOKDFrameSample` puts
both views into **one clip**, so that every later transform of the pipeline
(``TransformBroadcaster(share_random_params=True)`` for resize and flip,
MinorPaste for pasting) treats the student's frames and the teacher's frames
alike.

Layout of a sampled clip of ``T = max_teacher_frames`` entries (a fixed
length, as ``TrackDataPreprocessor`` stacks clips into ``(B, T, C, H, W)``)::

    entries:  the teacher's frames, sorted by frame index, each once
              (they include the student's two frames), then padding
    role:     'student' | 'teacher' | 'pad'      (key ``ookd_frame_role``)

* ``'student'``: one of the student's two frames (key and reference); the
  teacher sees it too.
* ``'teacher'``: a frame only the teacher sees.
* ``'pad'``: a repetition of the last real entry that fills the clip up to
  ``T``; nobody uses it (it costs its loading only).

Pack it with ``PackTrackInputs(meta_keys=('ookd_frame_role', ))`` (and
``'paste_sources'`` when MinorPaste is used): :class:`mmookd.models.vis.OOKD`
splits the packed frames by that key. A video of one frame gives the student
the same frame twice (two ``'student'`` entries), as
``UniformRefFrameSample`` does; the teacher sees it once.

Which frames the teacher sees (:func:`teacher_frame_ids`):

1. the window (:func:`teacher_window_range`): the whole video when
   ``teacher_window`` is None (the paper), otherwise ``teacher_window``
   consecutive frames centred on the student's frames, shifted to lie in the
   video and widened to hold both student frames;
2. when the window holds more than ``max_teacher_frames`` frames: the
   student's frames plus ``max_teacher_frames - #student`` frames evenly
   spread over the rest of the window (deterministic).
"""
import random
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmdet.datasets.transforms import UniformRefFrameSample
from mmdet.registry import TRANSFORMS

ROLE_KEY = 'ookd_frame_role'
STUDENT, TEACHER, PAD = 'student', 'teacher', 'pad'


def teacher_window_range(student_ids: Sequence[int], window: Optional[int],
                         video_length: int) -> Tuple[int, int]:
    """First and last frame index of the teacher's window.

    Args:
        student_ids (Sequence[int]): Frame indices of the student's frames.
        window (int, optional): Frames in the window; None for the whole
            video. A window shorter than the span of the student's frames
            is widened to that span; a window longer than the video is the
            whole video.
        video_length (int): Frames of the video.

    Returns:
        tuple[int, int]: ``(lo, hi)``, inclusive, ``0 <= lo <= min(ids)``
        and ``max(ids) <= hi < video_length``.

    Example:
        >>> teacher_window_range([10, 12], 6, 40)
        (8, 13)
        >>> teacher_window_range([0, 1], 6, 40)
        (0, 5)
    """
    first, last = min(student_ids), max(student_ids)
    if first < 0 or last >= video_length:
        raise ValueError(f'student frames {list(student_ids)} lie outside '
                         f'the video of {video_length} frames')
    if window is None:
        return 0, video_length - 1
    if window < 1:
        raise ValueError(f'teacher_window must be >= 1 or None, got {window}')
    window = min(max(window, last - first + 1), video_length)
    lo = (first + last + 1) // 2 - window // 2
    lo = min(max(lo, 0), video_length - window)
    lo = max(min(lo, first), last - window + 1)
    return lo, lo + window - 1


def teacher_frame_ids(student_ids: Sequence[int], video_length: int,
                      window: Optional[int],
                      max_frames: Optional[int]) -> List[int]:
    """The teacher's frames: the window, evenly subsampled if too long.

    Args:
        student_ids (Sequence[int]): The student's frame indices (kept).
        video_length (int): Frames of the video.
        window (int, optional): See :func:`teacher_window_range`.
        max_frames (int, optional): Most frames the teacher sees; None for
            no bound.

    Returns:
        list[int]: Sorted, distinct frame indices, the student's included,
        at most ``max(max_frames, #distinct student frames)`` of them.
    """
    lo, hi = teacher_window_range(student_ids, window, video_length)
    student = sorted(set(int(i) for i in student_ids))
    frames = list(range(lo, hi + 1))
    if max_frames is None or len(frames) <= max_frames:
        return frames
    others = [f for f in frames if f not in student]
    num = max(max_frames - len(student), 0)
    if num == 0:
        return student
    picks = np.linspace(0, len(others) - 1, num).round().astype(int)
    return sorted(student + [others[i] for i in picks])


@TRANSFORMS.register_module()
class OOKDFrameSample(UniformRefFrameSample):
    """The student's key/reference pair plus the teacher's frames, one clip.

    The student's pair is sampled as mmdet's ``UniformRefFrameSample`` does
    (the key frame from the sampler, ``num_ref_imgs`` reference frames at
    most ``frame_range`` frames away); the teacher's frames follow
    :func:`teacher_frame_ids`. See the module docstring for the layout.

    Added keys (lists of ``T`` entries, like every per-frame key):
    ``ookd_frame_role`` and ``key_frame_flags`` (True at the key frame).

    Args:
        num_ref_imgs (int): Reference frames of the student. Defaults to 1
            (IDOL's pair).
        frame_range (int | list[int]): Range of the reference frame around
            the key frame. Defaults to 10.
        filter_key_img (bool): Never pick the key frame as reference.
            Defaults to True.
        teacher_window (int, optional): Frames of the teacher's window
            around the student's frames; None (default) for the whole video,
            as in the paper.
        max_teacher_frames (int): Entries of every clip ``T``: the most
            frames the teacher sees (the student's included), and the
            length every clip is padded to. Defaults to 36 (the longest
            YouTube-VIS training videos).
        collect_video_keys (list[str]): Video-level keys copied into every
            frame. Defaults to ``['video_id', 'video_length']``.
    """

    def __init__(self,
                 num_ref_imgs: int = 1,
                 frame_range: Union[int, List[int]] = 10,
                 filter_key_img: bool = True,
                 teacher_window: Optional[int] = None,
                 max_teacher_frames: int = 36,
                 collect_video_keys: List[str] = ['video_id', 'video_length']):
        super().__init__(
            num_ref_imgs=num_ref_imgs,
            frame_range=frame_range,
            filter_key_img=filter_key_img,
            collect_video_keys=collect_video_keys)
        if max_teacher_frames < num_ref_imgs + 1:
            raise ValueError(
                f'OOKDFrameSample: max_teacher_frames ({max_teacher_frames}) '
                f'must hold the student\'s {num_ref_imgs + 1} frames')
        if teacher_window is not None and teacher_window < 1:
            raise ValueError('OOKDFrameSample: teacher_window must be >= 1 '
                             f'or None, got {teacher_window}')
        self.teacher_window = teacher_window
        self.max_teacher_frames = max_teacher_frames

    def clip_layout(
            self, video_length: int,
            key_frame_id: int) -> Tuple[List[int], List[str], List[bool]]:
        """Frame index, role and key flag of every entry of the clip.

        Args:
            video_length (int): Frames of the video.
            key_frame_id (int): The student's key frame.

        Returns:
            tuple[list[int], list[str], list[bool]]: ``T`` entries each.
        """
        student_ids, key_flags = self.sampling_frames(
            video_length, key_frame_id=key_frame_id)
        teacher_ids = teacher_frame_ids(student_ids, video_length,
                                        self.teacher_window,
                                        self.max_teacher_frames)
        key_id = student_ids[key_flags.index(True)]
        frame_ids, roles = [], []
        pending = list(student_ids)  # a frame may be the student's twice
        for frame in teacher_ids:
            frame_ids.append(frame)
            if frame in pending:
                pending.remove(frame)
                roles.append(STUDENT)
            else:
                roles.append(TEACHER)
            while frame in pending:  # duplicated student frame (1 frame)
                pending.remove(frame)
                frame_ids.append(frame)
                roles.append(STUDENT)
        if len(frame_ids) > self.max_teacher_frames:
            raise ValueError(
                f'OOKDFrameSample: {len(frame_ids)} entries for a clip of '
                f'{self.max_teacher_frames} (student frames {student_ids})')
        num_pad = self.max_teacher_frames - len(frame_ids)
        frame_ids += [frame_ids[-1]] * num_pad
        roles += [PAD] * num_pad
        key_flags = [False] * len(frame_ids)
        key_flags[[
            t for t, (f, r) in enumerate(zip(frame_ids, roles))
            if f == key_id and r == STUDENT
        ][0]] = True
        return frame_ids, roles, key_flags

    def transform(self, video_infos: dict) -> Optional[Dict[str, List]]:
        """Sample the clip of a video.

        Args:
            video_infos (dict): The whole video (``images``,
                ``video_length``, optionally ``key_frame_id``).

        Returns:
            dict: Per-frame lists of the ``T`` entries, with
            ``ookd_frame_role`` and ``key_frame_flags``.
        """
        video_length = video_infos['video_length']
        if 'key_frame_id' in video_infos:
            key_frame_id = video_infos['key_frame_id']
        else:
            key_frame_id = random.randrange(video_length)
        frame_ids, roles, key_flags = self.clip_layout(video_length,
                                                       key_frame_id)
        results = self.prepare_data(video_infos, frame_ids)
        results[ROLE_KEY] = roles
        results['key_frame_flags'] = key_flags
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_ref_imgs={self.num_ref_imgs}'
                f', frame_range={self.frame_range}, filter_key_img='
                f'{self.filter_key_img}, teacher_window={self.teacher_window}'
                f', max_teacher_frames={self.max_teacher_frames})')
