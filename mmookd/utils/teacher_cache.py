# Copyright (c) mmookd authors. All rights reserved.
"""The teacher knowledge cache of OOKD (an mmookd addition to the paper).

OOKD's teacher is frozen, so what it contributes to a training step, the
offline feature ``f^off[sigma^off_m]`` that its QFA picks for ground truth
``m`` of a frame, can be computed once. ``tools/ookd/cache_teacher.py`` runs
the teacher over the un-augmented training videos and stores one entry per
``(video id, frame id, instance id)``; ``OOKD(teacher_cache=FILE)`` then
looks the entries up instead of running the teacher.

File format (``torch.save`` of plain containers, read with
``torch.load(weights_only=True)``)::

    format        'mmookd.teacher_cache'
    version       1
    meta          dict of str / int / None:
        teacher_checkpoint          path given to the tool (information)
        teacher_checkpoint_sha256   SHA-256 of that file (None: no file)
        teacher_config              JSON dump of the teacher's model config
        teacher_config_sha256       SHA-256 of that dump
        ann_file, ann_file_sha256   the training annotation file
        assigner_config(_sha256)    the QFA assigner config (JSON) and hash
        base_checkpoint(_sha256)    the teacher's frozen stage-1 IDOL
        feature                     'embeds' or 'queries'
        feature_dim                 C of ``features``
        teacher_window, max_frames  which frames the teacher saw at once
        frames_pipeline(_sha256)    the un-augmented pipeline (JSON), hash
        frames                      the three above, as text
        num_videos                  videos processed
    videos        (V,) int64   every video processed (also those without
                               an entry): a training video missing here
                               is refused, never silently not distilled
    video_ids     (R,) int64   \\
    frame_ids     (R,) int64    | one row per (video, frame, GT instance)
    instance_ids  (R,) int64    | whose teacher QFA gave a query
    query_inds    (R,) int64    | the teacher query sigma^off
    feature_inds  (R,) int64   /  row of ``features``
    features      (U, C) float32, the distinct features

``R`` rows, ``U`` distinct features: features are video-level and an
instance usually keeps its video query over the frames, so a feature is
stored once per (video, teacher pass, query); a *teacher pass* is one run
of the teacher over a set of frames of the video (one per video unless the
video was seen in several passes, see ``tools/ookd/cache_teacher.py``).

Track entries. MinorPaste's pasted instances carry the key of their source
as ``(source video id, source instance id)`` without the source frame (see
``docs/minor_paste.md``). Such a key is looked up in the *track* entry of the
source instance: the feature of the query that the teacher's QFA picked in
most of that instance's frames (ties: the one of the earliest frame).
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from collections import Counter, defaultdict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

CACHE_FORMAT = 'mmookd.teacher_cache'
CACHE_VERSION = 2
_TABLE_KEYS = ('video_ids', 'frame_ids', 'instance_ids', 'query_inds',
               'feature_inds')
# Keys of ``meta`` that must agree with the model that reads the cache, and
# how to name them in an error message.
CHECKED_META = {
    'teacher_checkpoint_sha256': 'teacher checkpoint (SHA-256)',
    'teacher_config_sha256': 'teacher config (SHA-256 of its JSON dump)',
    'ann_file_sha256': 'annotation file (SHA-256)',
    'assigner_config_sha256': 'QFA assigner config (SHA-256)',
    'feature': 'distilled feature (distill_feature)',
    'feature_dim': 'feature size',
    'base_checkpoint_sha256': 'the teacher\'s base IDOL checkpoint (SHA-256)',
    'teacher_window': 'teacher frames (model.teacher_window)',
    'max_frames': 'most teacher frames at once (max_teacher_frames)',
    'frames_pipeline_sha256': 'un-augmented frame pipeline (SHA-256)',
}


class StaleTeacherCacheError(ValueError):
    """A teacher cache that does not belong to the model reading it."""


def file_sha256(path: Optional[str], chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, or None for None.

    Args:
        path (str, optional): The file.
        chunk_size (int): Bytes read at a time.

    Returns:
        str | None: 64 hex characters.
    """
    if path is None:
        return None
    if not osp.isfile(path):
        raise FileNotFoundError(f'cannot hash {path}: no such file')
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk_size), b''):
            digest.update(block)
    return digest.hexdigest()


def _plain(obj):
    """ConfigDict / tuple / nested containers -> JSON-able plain data."""
    if hasattr(obj, 'to_dict'):
        obj = obj.to_dict()
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)


def config_dump(cfg) -> Tuple[str, str]:
    """A canonical JSON dump of a config dict and its SHA-256.

    Args:
        cfg (dict | ConfigDict): Any nested config.

    Returns:
        tuple[str, str]: ``(dump, sha256)``; key order does not matter.
    """
    dump = json.dumps(_plain(cfg), sort_keys=True)
    return dump, hashlib.sha256(dump.encode()).hexdigest()


class TeacherCacheWriter:
    """Collects the teacher's picks frame by frame and writes the file.

    Example:
        >>> writer = TeacherCacheWriter(feature='embeds', feature_dim=4)
        >>> writer.add_frame(video_id=1, frame_id=0, instance_ids=[5, 7],
        ...                  query_inds=torch.tensor([2, -1]),
        ...                  features=torch.randn(10, 4))
        >>> writer.num_rows     # GT 7 had no teacher query: no entry
        1
    """

    def __init__(self, feature: str, feature_dim: int) -> None:
        self.feature = feature
        self.feature_dim = feature_dim
        self._rows: Dict[str, List[int]] = {k: [] for k in _TABLE_KEYS}
        self._features: List[Tensor] = []
        self._feature_index: Dict[Tuple[int, int, int], int] = {}
        self._videos = set()

    @property
    def num_rows(self) -> int:
        """int: entries written so far."""
        return len(self._rows['video_ids'])

    def add_video(self, video_id: int) -> None:
        """Record that ``video_id`` was processed (even with no entry)."""
        self._videos.add(int(video_id))

    def add_frame(self,
                  video_id: int,
                  frame_id: int,
                  instance_ids: Sequence[int],
                  query_inds: Tensor,
                  features: Tensor,
                  group: int = 0) -> None:
        """Add the picks of the teacher for the GTs of one frame.

        Args:
            video_id (int): Video id of the frame.
            frame_id (int): Frame index in the video.
            instance_ids (Sequence[int]): (M,) GT instance ids of the frame.
            query_inds (Tensor): (M,) long, the teacher query of each GT,
                -1 for none (no entry is written for it).
            features (Tensor): (Nv, C) the teacher's video-level features.
            group (int): The teacher pass of the video that gave
                ``features`` (features of different passes differ).
        """
        if features.dim() != 2 or features.size(1) != self.feature_dim:
            raise ValueError(
                f'TeacherCacheWriter: video {video_id} frame {frame_id}: '
                f'features must be (Nv, {self.feature_dim}), got '
                f'{tuple(features.shape)}')
        if len(instance_ids) != len(query_inds):
            raise ValueError(
                f'TeacherCacheWriter: video {video_id} frame {frame_id}: '
                f'{len(instance_ids)} instance ids but {len(query_inds)} '
                'query indices')
        self.add_video(video_id)
        for inst, query in zip(instance_ids, query_inds.tolist()):
            if query < 0:
                continue
            key = (int(video_id), int(group), int(query))
            if key not in self._feature_index:
                self._feature_index[key] = len(self._features)
                self._features.append(
                    features[query].detach().float().cpu().clone())
            row = (video_id, frame_id, inst, query, self._feature_index[key])
            for name, value in zip(_TABLE_KEYS, row):
                self._rows[name].append(int(value))

    def state(self, meta: dict) -> dict:
        """The object written to disk (see the module docstring)."""
        meta = dict(meta)
        meta.update(
            feature=self.feature,
            feature_dim=self.feature_dim,
            num_videos=len(self._videos))
        state = dict(format=CACHE_FORMAT, version=CACHE_VERSION, meta=meta)
        state['videos'] = torch.tensor(sorted(self._videos), dtype=torch.long)
        for name in _TABLE_KEYS:
            state[name] = torch.tensor(self._rows[name], dtype=torch.long)
        state['features'] = (
            torch.stack(self._features) if self._features else torch.zeros(
                (0, self.feature_dim)))
        return state

    def save(self, path: str, meta: dict) -> None:
        """Write the cache file atomically (a temporary file, then a rename:
        a crash never leaves a half-written cache under ``path``).

        Args:
            path (str): Output file (``.pth``).
            meta (dict): The ``meta`` entries of the module docstring, except
                ``feature``, ``feature_dim`` and ``num_videos`` (added).
        """
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix='.' + osp.basename(path) + '.', dir=folder)
        os.close(fd)
        try:
            torch.save(self.state(meta), tmp)
            os.replace(tmp, path)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)


class TeacherCache:
    """A loaded teacher cache: ``(video, frame, instance) -> feature``.

    Args:
        state (dict): The loaded file (see the module docstring).
        source (str): Where it came from, for messages.
    """

    def __init__(self, state: dict, source: str = '<memory>') -> None:
        self.source = source
        self.meta = dict(state['meta'])
        self.features = state['features'].float()
        self.videos = set(state['videos'].tolist())
        table = [state[name].tolist() for name in _TABLE_KEYS]
        self._index: Dict[Tuple[int, int, int], int] = {}
        picks = defaultdict(list)
        for vid, fid, iid, _, feat in zip(*table):
            self._index[(vid, fid, iid)] = feat
            picks[(vid, iid)].append((fid, feat))
        self._tracks: Dict[Tuple[int, int], int] = {}
        for key, frames in picks.items():
            frames.sort()
            counts = Counter(feat for _, feat in frames)
            best = max(counts.values())
            self._tracks[key] = next(feat for _, feat in frames
                                     if counts[feat] == best)

    @property
    def feature(self) -> str:
        """str: the distilled feature ('embeds' or 'queries')."""
        return self.meta['feature']

    @property
    def feature_dim(self) -> int:
        """int: C."""
        return int(self.meta['feature_dim'])

    def __len__(self) -> int:
        return len(self._index)

    @classmethod
    def load(cls,
             path: str,
             expected: Optional[dict] = None) -> 'TeacherCache':
        """Read a cache file with ``weights_only=True`` and check it.

        Args:
            path (str): The file written by ``tools/ookd/cache_teacher.py``.
            expected (dict, optional): ``meta`` values the reader requires
                (keys of :data:`CHECKED_META`); a key absent from
                ``expected`` is not checked.

        Returns:
            TeacherCache: The cache.

        Raises:
            StaleTeacherCacheError: not a cache, another version, or a
                ``meta`` value that differs from ``expected`` (the message
                names every difference).
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'teacher cache {path} does not exist: build it with '
                'tools/ookd/cache_teacher.py CONFIG --out FILE')
        if osp.getsize(path) == 0:
            raise StaleTeacherCacheError(
                f'teacher cache {path} is empty (0 bytes): rebuild it with '
                'tools/ookd/cache_teacher.py')
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as err:  # truncated or not a torch file
            raise StaleTeacherCacheError(
                f'teacher cache {path} cannot be read ({type(err).__name__}:'
                f' {str(err).splitlines()[0] if str(err) else ""}); it may '
                'be truncated: rebuild it with tools/ookd/cache_teacher.py'
            ) from err
        if not isinstance(state, dict) or \
                state.get('format') != CACHE_FORMAT:
            raise StaleTeacherCacheError(
                f'{path} is not an mmookd teacher cache (format '
                f'{state.get("format") if isinstance(state, dict) else None}'
                f', expected {CACHE_FORMAT!r})')
        if state.get('version') != CACHE_VERSION:
            raise StaleTeacherCacheError(
                f'teacher cache {path} has format version '
                f'{state.get("version")}, this mmookd reads version '
                f'{CACHE_VERSION}: rebuild it with '
                'tools/ookd/cache_teacher.py')
        check_tables(state, path)
        check_meta(state['meta'], expected or {}, path)
        return cls(state, source=path)

    def check_videos(self, video_ids: Sequence[int], what: str) -> None:
        """Refuse a cache that lacks one of ``video_ids``.

        Raises:
            StaleTeacherCacheError: naming the cache and the first missing
                video (a video without entries would silently not be
                distilled).
        """
        missing = sorted(set(int(v) for v in video_ids) - self.videos)
        if missing:
            raise StaleTeacherCacheError(
                f'teacher cache {self.source} lacks {len(missing)} video(s) '
                f'of {what}, e.g. video {missing[0]}: it was made from '
                'other data; rebuild it with tools/ookd/cache_teacher.py')

    def lookup(
            self,
            video_id: int,
            frame_id: int,
            instance_ids: Sequence[int],
            paste_sources: Optional[Mapping] = None) -> Tuple[Tensor, Tensor]:
        """Teacher features of the GTs of one frame.

        Args:
            video_id (int): Video of the frame.
            frame_id (int): Frame index.
            instance_ids (Sequence[int]): (M,) GT instance ids.
            paste_sources (Mapping, optional): ``{instance id: (source video
                id, source instance id)}`` of pasted instances (MinorPaste's
                ``paste_sources``); those are looked up in the source's
                track entry.

        Returns:
            tuple[Tensor, Tensor]: features (M, C) (zeros where not found)
            and found (M,) bool.
        """
        paste_sources = paste_sources or {}
        for video in [video_id] + [src[0] for src in paste_sources.values()]:
            if int(video) not in self.videos:
                raise KeyError(
                    f'teacher cache {self.source} has no video {int(video)} '
                    f'(frame {frame_id}): the cache was made from other '
                    'data; rebuild it with tools/ookd/cache_teacher.py')
        rows = []
        for inst in instance_ids:
            inst = int(inst)
            source = paste_sources.get(inst)
            if source is not None:
                rows.append(
                    self._tracks.get((int(source[0]), int(source[1])), -1))
            else:
                rows.append(
                    self._index.get((int(video_id), int(frame_id), inst), -1))
        rows = torch.tensor(rows, dtype=torch.long)
        found = rows >= 0
        feats = self.features.new_zeros((len(rows), self.feature_dim))
        if bool(found.any()):
            feats[found] = self.features[rows[found]]
        return feats, found


def check_tables(state: dict, source: str) -> None:
    """Raise :class:`StaleTeacherCacheError` for an inconsistent file."""
    missing = [
        k for k in ('meta', 'videos', 'features') + _TABLE_KEYS
        if k not in state
    ]
    if missing:
        raise StaleTeacherCacheError(
            f'teacher cache {source} lacks {missing}: rebuild it with '
            'tools/ookd/cache_teacher.py')
    lengths = {k: int(state[k].numel()) for k in _TABLE_KEYS}
    features = state['features']
    problem = None
    if len(set(lengths.values())) != 1:
        problem = f'its tables have different lengths {lengths}'
    elif features.dim() != 2 or features.size(1) != int(
            state['meta'].get('feature_dim', -1)):
        problem = (f'features have shape {tuple(features.shape)}, meta says '
                   f'feature_dim {state["meta"].get("feature_dim")}')
    elif lengths['feature_inds'] and (
            int(state['feature_inds'].min()) < 0
            or int(state['feature_inds'].max()) >= features.size(0)):
        problem = 'feature_inds point outside features'
    elif lengths['video_ids'] and not set(
            state['video_ids'].tolist()) <= set(state['videos'].tolist()):
        problem = 'entries of videos it does not list'
    elif not torch.isfinite(features).all():
        problem = 'non-finite features'
    if problem is not None:
        raise StaleTeacherCacheError(
            f'teacher cache {source} is inconsistent: {problem}; rebuild it '
            'with tools/ookd/cache_teacher.py')


def check_meta(meta: dict, expected: dict, source: str) -> None:
    """Raise :class:`StaleTeacherCacheError` naming every ``meta`` value
    that differs from ``expected``."""
    diffs = []
    for key, value in expected.items():
        if key not in CHECKED_META:
            raise KeyError(f'unknown teacher cache meta key {key!r}')
        if meta.get(key) != value:
            what = CHECKED_META[key]
            detail = ''
            if key == 'teacher_checkpoint_sha256':
                detail = f' (cache made from {meta.get("teacher_checkpoint")})'
            elif key == 'ann_file_sha256':
                detail = f' (cache made from {meta.get("ann_file")})'
            diffs.append(f'{what}: cache has {meta.get(key)!r}{detail}, '
                         f'the model expects {value!r}')
    if diffs:
        raise StaleTeacherCacheError(
            f'teacher cache {source} does not match the model: ' +
            '; '.join(diffs) + '. Rebuild it with tools/ookd/cache_teacher.py'
            ' (or point teacher_cache to the right file).')
